"""Static reference data of the sandbox retailer: places, products, names, carriers.

Everything random about the world comes from the seeded generator; this module only
holds the fixed vocabulary it draws from, so a reader can see the world's shape in
one place.
"""

from __future__ import annotations

# code, name, kind, timezone, street, city, state, zip, phone, odoo warehouse code
PLACES = (
    ("downtown", "Downtown", "store", "America/New_York", "120 Broadway", "New York", "NY", "10271", "+12125550110", "DT"),
    ("riverside", "Riverside", "store", "America/New_York", "45 River Road", "Edgewater", "NJ", "07020", "+12015550120", "RS"),
    ("airport-mall", "Airport Mall", "store", "America/Chicago", "10000 W O'Hare Ave", "Chicago", "IL", "60666", "+13125550130", "AM"),
    ("central-warehouse", "Central Warehouse", "warehouse", "America/New_York", "600 Meadowlands Pkwy", "Secaucus", "NJ", "07094", "+12015550140", "WH"),
)  # fmt: skip

WAREHOUSE = "central-warehouse"
SHOP_TIMEZONE = "America/New_York"
SHOP_DOMAIN = "omnidesk-sandbox.myshopify.com"

# (prefix, category, [(base name, web price in cents)]); each base comes in four colours.
REGULAR_PRODUCTS = (
    ("KIT", "Kitchen", (
        ("Chef's Knife 8in", 5999), ("Cast Iron Skillet 10in", 3999), ("Ceramic Mug 12oz", 1499),
        ("Pour-Over Coffee Set", 4499), ("Glass Storage Set 10pc", 3499), ("Bamboo Cutting Board", 2499),
        ("Stand Mixer 5qt", 27999), ("Electric Kettle 1.7L", 4999), ("Nonstick Saucepan 2qt", 3299),
        ("Salad Spinner", 2799), ("Espresso Machine", 19999), ("Dinner Plate Set 4pc", 4599),
    )),
    ("HOM", "Home", (
        ("Cotton Bath Towel", 1999), ("Linen Duvet Cover Queen", 12999), ("Scented Candle 8oz", 2299),
        ("Table Lamp", 6999), ("Throw Blanket", 4999), ("Memory Foam Pillow", 3999),
        ("Wall Clock 12in", 3499), ("Storage Basket", 2599), ("Bath Mat", 2199),
        ("Floor Lamp", 11999), ("Picture Frame 8x10", 1799), ("Doormat", 2999),
    )),
    ("ELE", "Electronics", (
        ("Wireless Earbuds", 7999), ("Bluetooth Speaker", 5999), ("USB-C Charger 65W", 3999),
        ("Smart Bulb 4-pack", 4999), ("Portable Power Bank", 3499), ("Noise-Cancelling Headphones", 19999),
        ("HDMI Cable 6ft", 1299), ("Smart Plug 2-pack", 2499), ("Wireless Mouse", 2999),
        ("Mechanical Keyboard", 8999), ("Webcam 1080p", 5999), ("Fitness Tracker", 9999),
    )),
    ("OUT", "Outdoor", (
        ("Camping Lantern", 3499), ("Insulated Water Bottle", 2999), ("Folding Camp Chair", 4999),
        ("Picnic Blanket", 3999), ("Hiking Daypack 20L", 6999), ("Garden Hose 50ft", 4499),
        ("Solar Path Lights 6pk", 3999), ("Cooler 24qt", 7999), ("Hammock", 5999),
        ("Bird Feeder", 2499), ("Umbrella Stand", 3299), ("Planter 12in", 2799),
    )),
)  # fmt: skip
COLOURS = ("Black", "White", "Slate", "Sage")

# Appliances: sold online only, delivered in a scheduled window.
BIG_PRODUCTS = (
    ("Front-Load Washing Machine 4.5 cu ft", 89900), ("Top-Load Washing Machine 5.0 cu ft", 74900),
    ("Electric Dryer 7.4 cu ft", 79900), ("French Door Refrigerator 26 cu ft", 189900),
    ("Side-by-Side Refrigerator 25 cu ft", 149900), ("Dishwasher 24in", 64900),
    ("Chest Freezer 7 cu ft", 32900), ("Gas Range 30in", 99900),
)  # fmt: skip

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Sandra", "Mark", "Margaret",
    "Donald", "Ashley", "Steven", "Kimberly", "Andrew", "Emily", "Paul", "Donna", "Joshua", "Michelle",
    "Kenneth", "Carol", "Kevin", "Amanda", "Brian", "Melissa", "Amelia", "Noah", "Olivia", "Liam",
    "Sofia", "Mateo", "Aisha", "Wei", "Priya", "Diego", "Fatima", "Hiroshi", "Léa", "Zoë",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Earhart", "O'Brien", "Kowalski", "Chen", "Patel", "Okafor", "Müller", "Silva", "Novak", "Dubois",
)  # fmt: skip
# More names with accents (and letters NFKD cannot fold), and names in other scripts with the e-mail stem their
# owners chose: the bench's million-customer world (tests/bench/benchdata/) draws them for search by name.
EXTRA_FIRST_NAMES = (
    "José", "Chloé", "Renée", "Søren", "Björn", "Łukasz", "François", "Noémie", "Mónica", "Jürgen",
    "Siân", "Inês", "Aurélie", "Dário", "Zoë", "Magdalena", "Agnieszka", "Thảo", "Ömer", "Ana",
)  # fmt: skip
EXTRA_LAST_NAMES = (
    "Núñez", "Peña", "Jiménez", "Dvořák", "Ødegaard", "Çelik", "Öztürk", "Nguyễn", "Gonçalves", "Šimić",
    "Lefèvre", "Bergström", "Wójcik", "Fernández", "Muñoz", "García", "Schäfer", "Łopez", "Kovačević", "Ferreira",
)  # fmt: skip
NON_LATIN_NAMES = (
    ("王芳", "wang.fang"), ("李伟", "li.wei"), ("张伟", "zhang.wei"), ("山田 太郎", "taro.yamada"),
    ("佐藤 花子", "hanako.sato"), ("김민준", "minjun.kim"), ("Дмитрий Иванов", "dmitry.ivanov"),
    ("Ольга Смирнова", "olga.smirnova"), ("Ελένη Παπαδοπούλου", "eleni.papadopoulou"), ("محمد علي", "mohamed.ali"),
)  # fmt: skip
EMAIL_DOMAINS = (
    "example.com",
    "mail.example.com",
    "example.net",
    "example.org",
    "inbox.example.com",
)

# city, state, zip, area codes
CITIES = (
    ("New York", "NY", "10003", ("212", "646", "917")), ("Brooklyn", "NY", "11201", ("718", "347")),
    ("Jersey City", "NJ", "07302", ("201", "551")), ("Hoboken", "NJ", "07030", ("201",)),
    ("Newark", "NJ", "07102", ("973", "862")), ("Stamford", "CT", "06901", ("203",)),
    ("Philadelphia", "PA", "19103", ("215", "267")), ("Boston", "MA", "02108", ("617", "857")),
    ("Chicago", "IL", "60601", ("312", "773")), ("Evanston", "IL", "60201", ("847",)),
    ("Naperville", "IL", "60540", ("630",)), ("Milwaukee", "WI", "53202", ("414",)),
    ("Baltimore", "MD", "21201", ("410", "443")), ("Washington", "DC", "20001", ("202",)),
)  # fmt: skip
STREETS = (
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Park Pl",
    "Elm St",
    "Lake Rd",
    "Hill St",
    "2nd Ave",
    "Washington Blvd",
)

# carrier -> (tracking url template, service names, hub cities)
CARRIERS = {
    "UPS": ("https://www.ups.com/track?tracknum={code}", ("Ground", "2nd Day Air"),
            (("Secaucus", "NJ", "07094"), ("Parsippany", "NJ", "07054"), ("Hodgkins", "IL", "60525"), ("Philadelphia", "PA", "19153"))),
    "USPS": ("https://tools.usps.com/go/TrackConfirmAction?tLabels={code}", ("Priority Mail", "Ground Advantage"),
             (("Kearny", "NJ", "07032"), ("New York", "NY", "10199"), ("Chicago", "IL", "60607"), ("Boston", "MA", "02205"))),
    "FedEx": ("https://www.fedex.com/fedextrack/?trknbr={code}", ("FedEx Ground", "FedEx Home Delivery"),
              (("Edison", "NJ", "08837"), ("Newark", "NJ", "07114"), ("Chicago", "IL", "60638"), ("Windsor", "CT", "06095"))),
}  # fmt: skip
SHIP_CARRIERS = ("UPS", "USPS", "FedEx")
DELIVERY_CARRIER = "FedEx"

CARD_BRANDS = (
    ("VISA", "Visa"),
    ("MASTERCARD", "Mastercard"),
    ("AMERICAN_EXPRESS", "American Express"),
    ("DISCOVER", "Discover"),
)

# staff who prepare orders, per Odoo warehouse code
STAFF = {
    "WH": ("Maria Lopez", "Tom Becker", "Aaliyah Brooks", "Sven Olsen"),
    "DT": ("Jamal Reed", "Nina Park"),
    "RS": ("Carlos Vega", "Emma Stone"),
    "AM": ("Grace Liu", "Omar Haddad"),
}

SHIPPING = {
    "standard": ("Standard Shipping", 599),
    "express": ("Express Shipping", 1499),
    "pickup": ("Pickup in store", 0),
    "scheduled_delivery": ("Scheduled Delivery", 4900),
}

CANCEL_REASONS = ("customer", "inventory", "other")
FAILURE_SCANS = (
    ("failure", "delivery_failed", "Delivery attempt failed: address not found"),
    ("return_to_sender", "return", "Returned to sender: refused by recipient"),
    ("failure", "damaged", "Package damaged in transit"),
)

PAY_IN_STORE_GATEWAY = "Pay in store"  # a shop's manual payment method (varied ``pay_in_store``), named by the shop
