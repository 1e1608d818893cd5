"""Word lists and fixed shapes the generator draws from.

Plain ASCII on purpose: odd text (emoji, right-to-left, quotes, backslashes) enters the
data only through anomaly injection, where the manifest records it.
"""

from __future__ import annotations

# (timezone, latitude, longitude) of the towns the tenants trade in; DST and non-DST
# zones on both hemispheres, so local-midnight cut-offs are tested for real.
TIMEZONES = (
    ("America/New_York", 40.71, -74.01),
    ("Europe/Berlin", 52.52, 13.40),
    ("Australia/Sydney", -33.87, 151.21),
    ("America/Los_Angeles", 34.05, -118.24),
    ("Pacific/Honolulu", 21.31, -157.86),
    ("America/Chicago", 41.88, -87.63),
    ("Europe/London", 51.51, -0.13),
    ("Pacific/Auckland", -36.85, 174.76),
    ("America/Denver", 39.74, -104.99),
    ("America/Phoenix", 33.45, -112.07),
    ("America/Toronto", 43.65, -79.38),
    ("Europe/Madrid", 40.42, -3.70),
    ("Australia/Perth", -31.95, 115.86),
    ("America/Sao_Paulo", -23.55, -46.63),
    ("Asia/Tokyo", 35.68, 139.69),
)

TOWN_WORDS = (
    "Maple",
    "Cedar",
    "Willow",
    "Harbor",
    "Summit",
    "River",
    "Oak",
    "Pine",
    "Meadow",
    "Lakeside",
    "Canyon",
    "Prairie",
    "Coastal",
    "Hillside",
    "Sunny",
    "Golden",
    "Silver",
    "Birch",
    "Aspen",
    "Valley",
)
BUSINESS_WORDS = ("Paws", "Pet Resort", "Kennels", "Dog Hotel", "Pet Lodge", "Tails Inn", "Bark Haven", "Pet Spa")
PLANS = ("starter", "growth", "pro", "enterprise")
PLAN_WEIGHTS = (0.2, 0.4, 0.3, 0.1)

FIRST_NAMES = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Chris",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Paul",
    "Ashley",
    "Steven",
    "Kimberly",
    "Andrew",
    "Emily",
    "Joshua",
    "Donna",
    "Kevin",
    "Michelle",
    "Brian",
    "Carol",
    "Lukas",
    "Anna",
    "Jonas",
    "Lea",
    "Oliver",
    "Olivia",
    "Noah",
    "Mia",
    "Liam",
    "Charlotte",
    "Hiroshi",
    "Yuki",
    "Mateo",
    "Sofia",
    "Lucas",
    "Isabella",
    "Ethan",
    "Ava",
    "Leon",
    "Emma",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Mueller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Tanaka",
    "Sato",
    "Silva",
    "Santos",
    "Kelly",
)
EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com", "proton.me", "web.de")

PET_NAMES = (
    "Bella",
    "Max",
    "Luna",
    "Charlie",
    "Lucy",
    "Cooper",
    "Daisy",
    "Milo",
    "Bailey",
    "Rocky",
    "Sadie",
    "Buddy",
    "Molly",
    "Bear",
    "Stella",
    "Duke",
    "Zoey",
    "Tucker",
    "Penny",
    "Oscar",
    "Coco",
    "Leo",
    "Rosie",
    "Teddy",
    "Ruby",
    "Winston",
    "Nala",
    "Loki",
    "Ginger",
    "Simba",
    "Chloe",
    "Jack",
    "Lola",
    "Toby",
    "Maggie",
    "Bentley",
    "Pepper",
    "Louie",
    "Willow",
    "Murphy",
)
# species -> (share of pets, breeds)
SPECIES = {
    "dog": (
        0.78,
        (
            "Labrador Retriever",
            "Golden Retriever",
            "German Shepherd",
            "French Bulldog",
            "Beagle",
            "Poodle",
            "Dachshund",
            "Boxer",
            "Border Collie",
            "Mixed",
        ),
    ),
    "cat": (0.20, ("Domestic Shorthair", "Maine Coon", "Siamese", "Ragdoll", "Bengal", "Mixed")),
    "rabbit": (0.02, ("Holland Lop", "Netherland Dwarf", "Mixed")),
}

# suite type -> (name prefix, share of a tenant's resources, capacity choices, boarding service, price cents/night)
SUITES = {
    "standard": ("Kennel", 0.38, (1, 1, 1, 2), "Standard boarding", 4500),
    "standard_plus": ("Suite", 0.24, (1, 1, 2), "Standard Plus boarding", 6000),
    "luxury": ("Luxury Suite", 0.10, (2, 3, 4), "Luxury suite boarding", 9500),
    "cat_condo": ("Cat Condo", 0.16, (1, 2, 3), "Cat condo boarding", 3500),
    "daycare": ("Daycare Room", 0.12, (10, 15, 20), "Doggy daycare", 3800),
}
# A dog's requested suite type when it is not a cat: shares of the non-cat types.
DOG_SUITE_SHARES = {"standard": 0.45, "standard_plus": 0.25, "luxury": 0.10, "daycare": 0.20}

# Extras sold on invoices beside the stay: (name, category, price cents).
EXTRAS = (
    ("Bath and brush", "grooming", 3000),
    ("Full groom", "grooming", 7500),
    ("Nail trim", "grooming", 1500),
    ("Basic obedience session", "training", 6000),
    ("Puppy training class", "training", 4500),
)

# Label variants staff type for a suite type; the canonical label is the code itself.
# Every variant normalises unambiguously to its code (the warehouse's matcher relies on it).
SUITE_LABEL_VARIANTS = {
    "standard": ("Standard", "standard suite", "STD", "Std."),
    "standard_plus": ("Standard Plus Suite", "standard plus", "STD+ suite", "Std. Plus"),
    "luxury": ("Luxury Suite", "LUXURY", "lux", "Luxury  suite"),
    "cat_condo": ("Cat Condo", "cat-condo", "CAT CONDO", "Condo (cat)"),
    "daycare": ("Day Care", "day-care", "DAYCARE", "Doggy daycare"),
}

TEAM_WORDS = ("Trail", "Pack", "Paw", "Stride", "Leash", "Wag", "Sprint", "Ramble", "Hike", "Stroll")
TEAM_SUFFIXES = ("Blazers", "Walkers", "Crew", "Squad", "Club", "Rangers", "Runners", "Gang")

# code -> (name, total distance in metres that earns it)
ACHIEVEMENTS = {
    "first_walk": ("First walk", 1),
    "distance_10k": ("10 km walked", 10_000),
    "distance_100k": ("100 km walked", 100_000),
    "distance_500k": ("500 km walked", 500_000),
    "distance_1000k": ("1000 km walked", 1_000_000),
}

REFUND_REASONS = ("stay shortened", "service not delivered", "duplicate charge", "goodwill", "price adjustment")
NOTES = (
    "Needs medication twice a day",
    "Allergic to chicken",
    "Bring own food",
    "Shy with other dogs",
    "Late pick-up agreed",
    "Feed at 7am and 6pm",
    "Prefers quiet suite",
    "Senior dog, gentle walks only",
)

# Odd text the anomaly injector puts into names and notes.
ODD_TEXT = (
    "Zoë 🐶",
    'O\'Brien "Bo"',
    "שלום",
    "مرحبا",
    "back\\slash",
    "Ｆｕｌｌｗｉｄｔｈ",
    "tab\there",
    "line\nbreak",
    "‮reversed",
    "😀😀😀",
)
