"""Words the demo retailer is built from: brands, adjectives, colours, sizes, people's names.

Kept apart from the generator so the *shape* of the data (which dimension, which price band)
and the *vocabulary* (what things are called) can be read and changed independently. Every
brand here is invented; none refers to a real company.
"""

from __future__ import annotations

FASHION_BRANDS: tuple[str, ...] = (
    "Northwind",
    "Alder & Pine",
    "Harbor Lane",
    "Salt Cedar",
    "Foglight",
    "Rainier Supply Co.",
    "Evergreen Studio",
    "Sound Street",
    "Madrona",
    "Kettle Falls",
)

HOME_BRANDS: tuple[str, ...] = (
    "Hearth & Tide",
    "Larch Living",
    "Olympic Table",
    "Cascade Home",
    "Driftwood & Co.",
    "Quiet Harbor",
    "Tillicum",
    "Fernhill",
)

FASHION_ADJECTIVES: tuple[str, ...] = (
    "relaxed",
    "classic",
    "everyday",
    "cropped",
    "oversized",
    "tailored",
    "washed",
    "brushed",
    "lightweight",
    "heritage",
    "essential",
    "textured",
    "ribbed",
    "vintage",
    "easy",
    "modern",
    "soft",
    "weekend",
    "city",
    "trail",
)

HOME_ADJECTIVES: tuple[str, ...] = (
    "handmade",
    "speckled",
    "modern",
    "rustic",
    "stonewashed",
    "minimal",
    "coastal",
    "heirloom",
    "everyday",
    "classic",
    "ribbed",
    "textured",
    "soft",
    "organic",
    "woven",
    "matte",
)

COLOURS: dict[str, str] = {
    # colour name -> three-letter code used in SKUs (unique)
    "Black": "BLK",
    "White": "WHT",
    "Ivory": "IVO",
    "Navy": "NAV",
    "Charcoal": "CHA",
    "Heather Grey": "HGR",
    "Stone": "STO",
    "Sand": "SND",
    "Camel": "CML",
    "Olive": "OLV",
    "Forest": "FOR",
    "Sage": "SAG",
    "Rust": "RST",
    "Burgundy": "BUR",
    "Blush": "BLS",
    "Sky Blue": "SKY",
    "Denim": "DNM",
    "Mustard": "MUS",
    "Terracotta": "TER",
    "Slate": "SLT",
}

APPAREL_COLOURS: tuple[str, ...] = tuple(COLOURS)
HOME_COLOURS: tuple[str, ...] = (
    "White",
    "Ivory",
    "Charcoal",
    "Stone",
    "Sand",
    "Sage",
    "Slate",
    "Terracotta",
    "Navy",
    "Olive",
    "Blush",
    "Mustard",
)
NEUTRAL_COLOURS: tuple[str, ...] = ("Black", "Camel", "Charcoal", "Navy", "Stone", "White")

WOMEN_SIZES: tuple[str, ...] = ("XXS", "XS", "S", "M", "L", "XL", "XXL")
MEN_SIZES: tuple[str, ...] = ("XS", "S", "M", "L", "XL", "XXL", "3XL")
KIDS_SIZES: tuple[str, ...] = ("2Y", "4Y", "6Y", "8Y", "10Y", "12Y", "14Y")
WAIST_SIZES: tuple[str, ...] = ("28", "30", "32", "34", "36", "38", "40")
WOMEN_NUMERIC_SIZES: tuple[str, ...] = ("0", "2", "4", "6", "8", "10", "12", "14")
WOMEN_SHOE_SIZES: tuple[str, ...] = (
    "5",
    "5.5",
    "6",
    "6.5",
    "7",
    "7.5",
    "8",
    "8.5",
    "9",
    "10",
    "11",
)
MEN_SHOE_SIZES: tuple[str, ...] = ("7", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12", "13")
ONE_SIZE_ACCESSORY: tuple[str, ...] = ("S/M", "M/L")
BED_SIZES: tuple[str, ...] = ("Twin", "Full", "Queen", "King", "Cal King")
TOWEL_SIZES: tuple[str, ...] = ("Wash", "Hand", "Bath", "Bath Sheet")
PAN_SIZES: tuple[str, ...] = ('8"', '10"', '12"')
LAMP_FINISHES: tuple[str, ...] = ("Brass", "Matte Black", "Brushed Nickel", "Oak", "Ceramic")
PATTERNS: tuple[str, ...] = ("Solid", "Stripe", "Check", "Herringbone", "Dot", "Floral")
SET_SIZES: tuple[str, ...] = ("Set of 2", "Set of 4", "Set of 6")

CARE_BY_MATERIAL: dict[str, str] = {
    "cotton": "machine wash cold",
    "organic cotton": "machine wash cold",
    "linen": "machine wash cold",
    "denim": "machine wash cold",
    "jersey": "machine wash cold",
    "polyester": "machine wash cold",
    "wool": "hand wash",
    "merino": "hand wash",
    "cashmere": "dry clean only",
    "silk": "dry clean only",
    "leather": "wipe clean",
    "suede": "wipe clean",
    "canvas": "wipe clean",
    "stoneware": "dishwasher safe",
    "porcelain": "dishwasher safe",
    "glass": "dishwasher safe",
    "stainless steel": "dishwasher safe",
    "cast iron": "hand wash",
    "enamel": "hand wash",
    "oak": "wipe clean",
    "walnut": "wipe clean",
    "bamboo": "wipe clean",
    "ceramic": "wipe clean",
    "brass": "wipe clean",
    "rattan": "wipe clean",
    "percale": "machine wash warm",
    "sateen": "machine wash warm",
    "flannel": "machine wash warm",
    "down": "professional clean",
    "terry": "machine wash warm",
    "jute": "spot clean",
    "wax": "not washable",
}

CARE_CHOICES: tuple[str, ...] = tuple(sorted(set(CARE_BY_MATERIAL.values())))
MATERIAL_CHOICES: tuple[str, ...] = tuple(sorted(CARE_BY_MATERIAL))
FIT_CHOICES: tuple[str, ...] = ("slim", "regular", "relaxed", "oversized")
ORIGIN_CHOICES: tuple[str, ...] = (
    "Portugal",
    "Italy",
    "India",
    "Vietnam",
    "Turkey",
    "Peru",
    "Mexico",
    "USA",
    "Japan",
)

FASHION_FEATURES: tuple[str, ...] = (
    "Cut for an easy fit that layers well over the seasons.",
    "Made to be worn often and to wash well.",
    "A wardrobe staple that works from the office to the weekend.",
    "Finished with clean seams and reinforced stress points.",
    "Soft from the first wear and softer with every wash.",
    "Designed in Seattle for Pacific Northwest weather.",
)

HOME_FEATURES: tuple[str, ...] = (
    "Designed to be used every day and look good doing it.",
    "Pairs with the rest of the collection for an easy, layered look.",
    "Made in small batches, so every piece is slightly different.",
    "Built to last, with a finish that ages well.",
    "Sized for real homes and real kitchens.",
)

FIRST_NAMES: tuple[str, ...] = (
    "Ava",
    "Ben",
    "Carmen",
    "Daniel",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Imani",
    "Jonas",
    "Keiko",
    "Luis",
    "Maya",
    "Noah",
    "Olivia",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Victor",
    "Wren",
    "Yusuf",
    "Zoe",
)

LAST_NAMES: tuple[str, ...] = (
    "Anderson",
    "Bui",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fujita",
    "Garcia",
    "Hansen",
    "Ibrahim",
    "Johansson",
    "Kim",
    "Larsen",
    "Morales",
    "Nguyen",
    "Okafor",
    "Patel",
    "Reyes",
    "Singh",
    "Tanaka",
    "Walker",
)
