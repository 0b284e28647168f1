"""Where the demo retailer is: one region (Puget Sound, Washington), its DCs, stores and vendors.

Coordinates are the real centres of real towns and neighbourhoods (to a few hundred metres) so
distance-based sourcing, store finders and maps look right; the seed only moves each site
within a block or two and picks its house number, so every seed gives a plausible address.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

REGION = "WA"
COUNTRY = "US"
CURRENCY = "USD"
TIMEZONE = "America/Los_Angeles"

BOUNDS = (46.9, 49.0, -123.2, -121.8)
"""(south, north, west, east): every demo site lies inside this box."""


@dataclass(frozen=True, slots=True)
class Site:
    code: str
    name: str
    kind: str  # dc | store | vendor
    latitude: float
    longitude: float
    street: str  # street name; the house number comes from the seed
    city: str
    postcode: str
    small: bool = False  # small-format store: carries a reduced assortment


DCS: tuple[Site, ...] = (
    Site("DC-01", "Kent DC", "dc", 47.4087, -122.2440, "S 212th St", "Kent", "98032"),
    Site("DC-02", "Arlington DC", "dc", 48.1622, -122.1660, "51st Ave NE", "Arlington", "98223"),
)

STORES: tuple[Site, ...] = (
    Site("S001", "Seattle Downtown", "store", 47.6114, -122.3371, "Pine St", "Seattle", "98101"),
    Site(
        "S002",
        "Seattle Capitol Hill",
        "store",
        47.6205,
        -122.3210,
        "Broadway E",
        "Seattle",
        "98102",
        small=True,
    ),
    Site(
        "S003", "Seattle Ballard", "store", 47.6687, -122.3841, "NW Market St", "Seattle", "98107"
    ),
    Site(
        "S004",
        "Seattle Fremont",
        "store",
        47.6510,
        -122.3500,
        "N 36th St",
        "Seattle",
        "98103",
        small=True,
    ),
    Site(
        "S005",
        "Seattle University Village",
        "store",
        47.6628,
        -122.2990,
        "NE 45th St",
        "Seattle",
        "98105",
    ),
    Site(
        "S006",
        "West Seattle",
        "store",
        47.5613,
        -122.3868,
        "California Ave SW",
        "Seattle",
        "98116",
        small=True,
    ),
    Site(
        "S007",
        "Seattle Columbia City",
        "store",
        47.5597,
        -122.2867,
        "Rainier Ave S",
        "Seattle",
        "98118",
        small=True,
    ),
    Site("S008", "Bellevue", "store", 47.6163, -122.2005, "Bellevue Way NE", "Bellevue", "98004"),
    Site("S009", "Redmond", "store", 47.6740, -122.1215, "Redmond Way", "Redmond", "98052"),
    Site(
        "S010",
        "Kirkland",
        "store",
        47.6769,
        -122.2060,
        "Central Way",
        "Kirkland",
        "98033",
        small=True,
    ),
    Site("S011", "Issaquah", "store", 47.5301, -122.0326, "Front St N", "Issaquah", "98027"),
    Site("S012", "Renton", "store", 47.4829, -122.2171, "S 3rd St", "Renton", "98057"),
    Site("S013", "Kent Station", "store", 47.3825, -122.2340, "W Meeker St", "Kent", "98032"),
    Site("S014", "Federal Way", "store", 47.3223, -122.3126, "S 320th St", "Federal Way", "98003"),
    Site("S015", "Tacoma", "store", 47.2529, -122.4443, "Pacific Ave", "Tacoma", "98402"),
    Site(
        "S016",
        "Puyallup",
        "store",
        47.1854,
        -122.2929,
        "S Meridian",
        "Puyallup",
        "98371",
        small=True,
    ),
    Site("S017", "Lakewood", "store", 47.1718, -122.5185, "Bridgeport Way SW", "Lakewood", "98499"),
    Site("S018", "Olympia", "store", 47.0379, -122.9007, "Capitol Way S", "Olympia", "98501"),
    Site("S019", "Everett", "store", 47.9790, -122.2021, "Colby Ave", "Everett", "98201"),
    Site("S020", "Lynnwood", "store", 47.8209, -122.3151, "196th St SW", "Lynnwood", "98036"),
    Site("S021", "Edmonds", "store", 47.8107, -122.3774, "Main St", "Edmonds", "98020", small=True),
    Site("S022", "Bothell", "store", 47.7623, -122.2054, "Main St", "Bothell", "98011", small=True),
    Site("S023", "Bellingham", "store", 48.7519, -122.4787, "Cornwall Ave", "Bellingham", "98225"),
    Site(
        "S024",
        "Mount Vernon",
        "store",
        48.4212,
        -122.3341,
        "S 1st St",
        "Mount Vernon",
        "98273",
        small=True,
    ),
    Site(
        "S025",
        "Bremerton",
        "store",
        47.5673,
        -122.6326,
        "Pacific Ave",
        "Bremerton",
        "98337",
        small=True,
    ),
)

VENDORS: tuple[Site, ...] = (
    Site(
        "V-01",
        "Cascade Furniture Works (drop-ship)",
        "vendor",
        47.2032,
        -122.2404,
        "Zehnder St",
        "Sumner",
        "98390",
    ),
    Site(
        "V-02",
        "Sound Linen Mills (drop-ship)",
        "vendor",
        47.4740,
        -122.2610,
        "Andover Park W",
        "Tukwila",
        "98188",
    ),
)

ALL_SITES: tuple[Site, ...] = DCS + STORES + VENDORS

JITTER_DEGREES = 0.002
"""How far the seed may move a site (about 200 m): same town, a different block."""


def locations(rng: random.Random) -> list[dict[str, Any]]:
    """The ``locations`` section of the catalog document."""
    out = []
    for site in ALL_SITES:
        number = rng.randrange(100, 2400, 2) if site.kind != "store" else rng.randrange(101, 1999)
        out.append(
            {
                "code": site.code,
                "name": site.name,
                "kind": site.kind,
                "latitude": round(site.latitude + rng.uniform(-JITTER_DEGREES, JITTER_DEGREES), 5),
                "longitude": round(
                    site.longitude + rng.uniform(-JITTER_DEGREES, JITTER_DEGREES), 5
                ),
                "street": f"{number} {site.street}",
                "city": site.city,
                "postcode": site.postcode,
                "region": REGION,
                "country": COUNTRY,
                "timezone": TIMEZONE,
            }
        )
    return out


def store_channel_code(store: Site) -> str:
    return f"STORE-{store.code}"


def channels() -> list[dict[str, Any]]:
    """The ``channels`` section: one per store, plus web, mobile, call center and marketplace.

    Each store sells from its own shelves. The remote channels are served by both DCs and every
    store (ship-from-store); web, mobile and call center may also route to the drop-ship
    vendors, while the marketplace (whose promise we cannot extend) ships only what we hold.
    """
    dcs = [s.code for s in DCS]
    stores = [s.code for s in STORES]
    vendors = [s.code for s in VENDORS]
    remote = [
        ("WEB", "Web store", "web", dcs + stores + vendors),
        ("MOBILE", "Mobile app", "mobile", dcs + stores + vendors),
        ("CALL-CENTER", "Call center", "call_center", dcs + stores + vendors),
        ("MARKETPLACE", "Marketplace storefront", "marketplace", dcs + stores),
    ]
    out = [
        {
            "code": store_channel_code(store),
            "name": f"{store.name} store",
            "kind": "store",
            "currency": CURRENCY,
            "location": store.code,
            "prices_include_tax": False,
            "locations": [store.code],
        }
        for store in STORES
    ]
    out.extend(
        {
            "code": code,
            "name": name,
            "kind": kind,
            "currency": CURRENCY,
            "location": None,
            "prices_include_tax": False,
            "locations": serving,
        }
        for code, name, kind, serving in remote
    )
    return out
