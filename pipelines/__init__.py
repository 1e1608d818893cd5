"""Kennelworks: batch pipeline and reporting warehouse for a multi-tenant pet-care SaaS."""
