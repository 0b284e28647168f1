"""The demo retailer's category tree and, for each leaf, how its products look.

A leaf says which items it sells (and of which materials), the list-price band, the unit, and
the dimensions its variants differ on. Putting these facts next to the tree keeps the
generator free of category-specific ``if`` branches: adding a category is adding a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from onestore.demo import wordlists as w


@dataclass(frozen=True, slots=True)
class Dimension:
    """One axis a product's variants differ on.

    ``window``: pick a run of neighbouring values (sizes are stocked as a run, S–XL, not S and
    XL); otherwise a random sample kept in pool order. ``priced``: each step up the pool costs
    more (a king duvet costs more than a twin), so the list price grows with the value's index.
    """

    name: str  # size | colour | style
    pool: tuple[str, ...]
    low: int
    high: int
    window: bool = False
    priced: bool = False


@dataclass(frozen=True, slots=True)
class Leaf:
    code: str
    name: str
    parent: str
    items: dict[str, tuple[str, ...]]  # item noun -> the materials it comes in
    price: tuple[int, int]  # list-price band in whole dollars (before material premium)
    dimensions: tuple[Dimension, ...]
    weight: int  # relative share of the product count
    unit: str = "ea"
    fit: bool = False
    extra: tuple[str, ...] = field(default=())  # further attribute codes this leaf fills


BRANCHES: tuple[tuple[str, str, str | None], ...] = (
    ("fashion", "Fashion", None),
    ("fashion-women", "Women", "fashion"),
    ("fashion-men", "Men", "fashion"),
    ("fashion-kids", "Kids", "fashion"),
    ("fashion-shoes", "Shoes", "fashion"),
    ("fashion-accessories", "Accessories", "fashion"),
    ("home", "Home", None),
    ("home-kitchen", "Kitchen", "home"),
    ("home-bedding", "Bedding", "home"),
    ("home-bath", "Bath", "home"),
    ("home-decor", "Decor", "home"),
    ("home-lighting", "Lighting", "home"),
)
"""Inner nodes (code, name, parent), parents first."""


def _sizes(pool: tuple[str, ...], low: int, high: int) -> Dimension:
    return Dimension("size", pool, low, high, window=True)


def _colours(pool: tuple[str, ...], low: int, high: int) -> Dimension:
    return Dimension("colour", pool, low, high)


_TOPS = ("cotton", "linen", "silk", "jersey", "organic cotton")
_KNITS = ("wool", "merino", "cashmere", "cotton")
_OUTER = ("polyester", "wool", "cotton")
_SHOES = ("leather", "suede", "canvas")

LEAVES: tuple[Leaf, ...] = (
    # -- fashion ---------------------------------------------------------------------------
    Leaf(
        "fashion-women-tops",
        "Tops",
        "fashion-women",
        {
            "shirt": _TOPS,
            "blouse": ("silk", "cotton", "linen"),
            "tee": ("cotton", "jersey"),
            "tank": ("jersey", "linen"),
            "button-down": ("cotton", "linen"),
        },
        (19, 89),
        (_sizes(w.WOMEN_SIZES, 4, 5), _colours(w.APPAREL_COLOURS, 1, 2)),
        weight=90,
        fit=True,
    ),
    Leaf(
        "fashion-women-dresses",
        "Dresses",
        "fashion-women",
        {
            "midi dress": ("cotton", "linen", "silk"),
            "maxi dress": ("linen", "jersey"),
            "shirt dress": ("cotton", "linen"),
            "wrap dress": ("jersey", "silk"),
            "slip dress": ("silk",),
        },
        (49, 189),
        (_sizes(w.WOMEN_SIZES, 4, 5), _colours(w.APPAREL_COLOURS, 1, 1)),
        weight=70,
        fit=True,
    ),
    Leaf(
        "fashion-women-knitwear",
        "Knitwear",
        "fashion-women",
        {
            "sweater": _KNITS,
            "cardigan": _KNITS,
            "turtleneck": ("merino", "cashmere"),
            "sweater vest": ("wool", "cotton"),
        },
        (59, 189),
        (_sizes(w.WOMEN_SIZES, 4, 5), _colours(w.APPAREL_COLOURS, 1, 1)),
        weight=60,
        fit=True,
    ),
    Leaf(
        "fashion-women-trousers",
        "Trousers & Jeans",
        "fashion-women",
        {
            "jeans": ("denim",),
            "wide-leg trousers": ("linen", "wool", "cotton"),
            "chinos": ("cotton",),
            "leggings": ("jersey",),
        },
        (49, 149),
        (_sizes(w.WOMEN_NUMERIC_SIZES, 5, 6), _colours((*w.NEUTRAL_COLOURS, "Denim"), 1, 1)),
        weight=55,
        fit=True,
    ),
    Leaf(
        "fashion-women-outerwear",
        "Coats & Jackets",
        "fashion-women",
        {
            "rain jacket": ("polyester",),
            "trench coat": ("cotton",),
            "puffer jacket": ("polyester",),
            "coat": ("wool", "cashmere"),
            "blazer": ("wool", "linen"),
        },
        (99, 329),
        (_sizes(w.WOMEN_SIZES, 4, 5), _colours(w.NEUTRAL_COLOURS, 1, 1)),
        weight=40,
        fit=True,
    ),
    Leaf(
        "fashion-men-shirts",
        "Shirts",
        "fashion-men",
        {
            "oxford shirt": ("cotton",),
            "flannel shirt": ("flannel",),
            "shirt": ("linen", "cotton"),
            "polo": ("cotton", "jersey"),
        },
        (39, 109),
        (_sizes(w.MEN_SIZES, 4, 5), _colours(w.APPAREL_COLOURS, 1, 2)),
        weight=70,
        fit=True,
    ),
    Leaf(
        "fashion-men-tees",
        "T-shirts",
        "fashion-men",
        {
            "crew tee": ("cotton", "organic cotton"),
            "henley": ("cotton", "jersey"),
            "pocket tee": ("cotton",),
            "long-sleeve tee": ("organic cotton", "jersey"),
        },
        (19, 49),
        (_sizes(w.MEN_SIZES, 4, 5), _colours(w.APPAREL_COLOURS, 1, 2)),
        weight=60,
        fit=True,
    ),
    Leaf(
        "fashion-men-knitwear",
        "Knitwear",
        "fashion-men",
        {
            "crewneck sweater": _KNITS,
            "quarter-zip": ("merino", "cotton"),
            "cardigan": ("wool", "merino"),
            "fisherman sweater": ("wool",),
        },
        (69, 199),
        (_sizes(w.MEN_SIZES, 4, 5), _colours(w.APPAREL_COLOURS, 1, 1)),
        weight=45,
        fit=True,
    ),
    Leaf(
        "fashion-men-trousers",
        "Trousers & Jeans",
        "fashion-men",
        {
            "jeans": ("denim",),
            "chinos": ("cotton",),
            "cargo trousers": ("cotton", "canvas"),
            "joggers": ("jersey", "cotton"),
            "trousers": ("wool", "linen"),
        },
        (49, 139),
        (_sizes(w.WAIST_SIZES, 5, 6), _colours((*w.NEUTRAL_COLOURS, "Denim", "Olive"), 1, 1)),
        weight=55,
        fit=True,
    ),
    Leaf(
        "fashion-men-outerwear",
        "Coats & Jackets",
        "fashion-men",
        {
            "rain shell": ("polyester",),
            "field jacket": ("cotton", "canvas"),
            "puffer jacket": ("polyester",),
            "overcoat": ("wool", "cashmere"),
        },
        (119, 349),
        (_sizes(w.MEN_SIZES, 4, 5), _colours((*w.NEUTRAL_COLOURS, "Olive", "Forest"), 1, 1)),
        weight=35,
        fit=True,
    ),
    Leaf(
        "fashion-kids-clothing",
        "Kids' clothing",
        "fashion-kids",
        {
            "tee": ("cotton", "organic cotton"),
            "hoodie": ("cotton", "jersey"),
            "dress": ("cotton", "jersey"),
            "joggers": ("jersey",),
            "rain jacket": ("polyester",),
        },
        (14, 59),
        (_sizes(w.KIDS_SIZES, 4, 5), _colours(w.APPAREL_COLOURS, 1, 1)),
        weight=55,
    ),
    Leaf(
        "fashion-shoes-women",
        "Women's shoes",
        "fashion-shoes",
        {
            "ankle boots": ("leather", "suede"),
            "ballet flats": ("leather",),
            "sneakers": ("canvas", "leather"),
            "loafers": ("leather", "suede"),
            "sandals": ("leather",),
        },
        (59, 229),
        (_sizes(w.WOMEN_SHOE_SIZES, 5, 6), _colours(w.NEUTRAL_COLOURS, 1, 1)),
        weight=50,
        unit="pair",
    ),
    Leaf(
        "fashion-shoes-men",
        "Men's shoes",
        "fashion-shoes",
        {
            "chelsea boots": ("leather", "suede"),
            "sneakers": _SHOES,
            "derby shoes": ("leather",),
            "loafers": ("leather", "suede"),
            "hiking boots": ("leather",),
        },
        (69, 249),
        (_sizes(w.MEN_SHOE_SIZES, 5, 6), _colours(w.NEUTRAL_COLOURS, 1, 1)),
        weight=45,
        unit="pair",
    ),
    Leaf(
        "fashion-accessories-bags",
        "Bags",
        "fashion-accessories",
        {
            "tote": ("canvas", "leather"),
            "backpack": ("canvas", "polyester"),
            "crossbody bag": ("leather", "suede"),
            "weekender": ("canvas", "leather"),
        },
        (39, 279),
        (_colours((*w.NEUTRAL_COLOURS, "Olive", "Rust"), 1, 3),),
        weight=40,
    ),
    Leaf(
        "fashion-accessories-scarves",
        "Scarves & Hats",
        "fashion-accessories",
        {
            "scarf": ("wool", "cashmere", "silk"),
            "beanie": ("wool", "merino"),
            "bucket hat": ("cotton", "canvas"),
            "gloves": ("leather", "wool"),
        },
        (19, 119),
        (_colours(w.APPAREL_COLOURS, 1, 3),),
        weight=35,
    ),
    Leaf(
        "fashion-accessories-belts",
        "Belts",
        "fashion-accessories",
        {"belt": ("leather", "suede"), "woven belt": ("canvas",)},
        (29, 89),
        (_sizes(("S", "M", "L", "XL"), 3, 4), _colours(("Black", "Camel", "Navy"), 1, 1)),
        weight=15,
    ),
    Leaf(
        "fashion-accessories-socks",
        "Socks",
        "fashion-accessories",
        {
            "crew socks": ("cotton", "merino"),
            "ankle socks": ("cotton",),
            "hiking socks": ("merino", "wool"),
        },
        (9, 29),
        (_sizes(("S", "M", "L"), 2, 3), _colours(w.APPAREL_COLOURS, 1, 1)),
        weight=25,
        unit="pair",
    ),
    # -- home ------------------------------------------------------------------------------
    Leaf(
        "home-kitchen-cookware",
        "Cookware",
        "home-kitchen",
        {
            "skillet": ("cast iron", "stainless steel"),
            "saute pan": ("stainless steel",),
            "saucepan": ("stainless steel", "enamel"),
            "dutch oven": ("enamel", "cast iron"),
        },
        (39, 249),
        (Dimension("size", w.PAN_SIZES, 1, 3, window=True, priced=True),),
        weight=40,
        extra=("dishwasher_safe",),
    ),
    Leaf(
        "home-kitchen-tableware",
        "Tableware",
        "home-kitchen",
        {
            "dinner plates": ("stoneware", "porcelain"),
            "side plates": ("stoneware", "porcelain"),
            "pasta bowls": ("stoneware",),
            "mugs": ("stoneware", "porcelain"),
        },
        (24, 89),
        (_colours(w.HOME_COLOURS, 1, 4),),
        weight=50,
        unit="set",
        extra=("dishwasher_safe",),
    ),
    Leaf(
        "home-kitchen-glassware",
        "Glassware",
        "home-kitchen",
        {
            "tumblers": ("glass",),
            "wine glasses": ("glass",),
            "highball glasses": ("glass",),
            "coupes": ("glass",),
        },
        (19, 79),
        (Dimension("style", w.SET_SIZES, 1, 3, window=True, priced=True),),
        weight=30,
        unit="set",
        extra=("dishwasher_safe",),
    ),
    Leaf(
        "home-kitchen-tools",
        "Utensils & Tools",
        "home-kitchen",
        {
            "cutting board": ("oak", "walnut", "bamboo"),
            "salad servers": ("oak", "bamboo"),
            "utensil crock": ("stoneware", "ceramic"),
            "knife block": ("walnut", "oak"),
        },
        (12, 89),
        (),
        weight=30,
    ),
    Leaf(
        "home-bedding-sheets",
        "Sheets & Duvet Covers",
        "home-bedding",
        {
            "sheet set": ("percale", "sateen", "linen", "flannel"),
            "duvet cover": ("percale", "sateen", "linen"),
            "pillowcase pair": ("percale", "sateen"),
        },
        (39, 229),
        (
            Dimension("size", w.BED_SIZES, 3, 4, window=True, priced=True),
            _colours(w.HOME_COLOURS, 1, 2),
        ),
        weight=40,
        extra=("thread_count",),
    ),
    Leaf(
        "home-bedding-duvets",
        "Duvets & Pillows",
        "home-bedding",
        {
            "duvet": ("down", "cotton"),
            "pillow": ("down", "cotton"),
            "mattress topper": ("down", "wool"),
        },
        (59, 329),
        (Dimension("size", w.BED_SIZES, 3, 4, window=True, priced=True),),
        weight=25,
    ),
    Leaf(
        "home-bedding-throws",
        "Throws & Blankets",
        "home-bedding",
        {
            "throw": ("wool", "cotton", "linen"),
            "blanket": ("wool", "cotton"),
            "quilt": ("cotton", "linen"),
        },
        (49, 219),
        (_colours(w.HOME_COLOURS, 1, 3),),
        weight=30,
    ),
    Leaf(
        "home-bath-towels",
        "Towels",
        "home-bath",
        {"towel": ("terry", "organic cotton"), "waffle towel": ("cotton", "linen")},
        (9, 59),
        (
            Dimension("size", w.TOWEL_SIZES, 2, 3, window=True, priced=True),
            _colours(w.HOME_COLOURS, 1, 1),
        ),
        weight=30,
    ),
    Leaf(
        "home-bath-accessories",
        "Bath accessories",
        "home-bath",
        {
            "bath mat": ("cotton", "bamboo"),
            "soap dispenser": ("ceramic", "glass"),
            "shower curtain": ("cotton", "linen"),
            "toothbrush holder": ("ceramic", "stoneware"),
        },
        (14, 59),
        (_colours(w.HOME_COLOURS, 1, 3),),
        weight=30,
    ),
    Leaf(
        "home-decor-cushions",
        "Cushions",
        "home-decor",
        {"cushion cover": ("linen", "wool", "cotton"), "lumbar pillow": ("linen", "wool")},
        (24, 89),
        (Dimension("style", w.PATTERNS, 1, 3),),
        weight=35,
    ),
    Leaf(
        "home-decor-vases",
        "Vases & Bowls",
        "home-decor",
        {
            "vase": ("ceramic", "glass", "stoneware"),
            "bud vase": ("ceramic", "glass"),
            "decorative bowl": ("stoneware", "walnut"),
        },
        (19, 149),
        (_colours(w.HOME_COLOURS, 1, 3),),
        weight=35,
    ),
    Leaf(
        "home-decor-candles",
        "Candles",
        "home-decor",
        {
            "scented candle": ("wax",),
            "pillar candle": ("wax",),
            "candle holder": ("brass", "glass"),
        },
        (12, 59),
        (),
        weight=30,
    ),
    Leaf(
        "home-decor-rugs",
        "Rugs",
        "home-decor",
        {"rug": ("jute", "wool"), "runner": ("jute", "wool", "cotton")},
        (79, 599),
        (Dimension("size", ("2x3", "3x5", "5x8", "8x10", "9x12"), 2, 3, window=True, priced=True),),
        weight=20,
    ),
    Leaf(
        "home-lighting-table",
        "Table lamps",
        "home-lighting",
        {"table lamp": ("ceramic", "brass", "oak"), "desk lamp": ("brass", "stainless steel")},
        (69, 249),
        (Dimension("style", w.LAMP_FINISHES, 1, 3),),
        weight=20,
        extra=("max_bulb_watts",),
    ),
    Leaf(
        "home-lighting-floor",
        "Floor lamps",
        "home-lighting",
        {"floor lamp": ("brass", "oak"), "arc lamp": ("brass", "stainless steel")},
        (129, 399),
        (Dimension("style", w.LAMP_FINISHES, 1, 2),),
        weight=12,
        extra=("max_bulb_watts",),
    ),
    Leaf(
        "home-lighting-pendants",
        "Pendants",
        "home-lighting",
        {"pendant light": ("glass", "brass"), "rattan pendant": ("rattan",)},
        (89, 329),
        (),
        weight=13,
        extra=("max_bulb_watts",),
    ),
)

MATERIAL_PREMIUM: dict[str, float] = {
    "cashmere": 2.0,
    "silk": 1.6,
    "leather": 1.4,
    "down": 1.5,
    "merino": 1.3,
    "linen": 1.2,
    "walnut": 1.3,
    "suede": 1.3,
    "wool": 1.15,
    "sateen": 1.1,
    "cast iron": 1.1,
}
"""Price multiplier by material: a cashmere sweater costs more than a cotton one."""

SMALL_STORE_SKIPS: tuple[str, ...] = (
    "home-bedding",
    "home-lighting",
    "home-decor-rugs",
    "fashion-kids",
)
"""Categories small-format stores do not carry: bulky goods and the kids' range."""
