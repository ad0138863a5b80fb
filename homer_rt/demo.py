"""Demo data: owners, renters and realistic listings across Indian cities, so search works at once.

Everything is deterministic: ids are uuid5 of stable names, times are fixed offsets from DEMO_EPOCH and
every "random" choice comes from a seeded generator, so two processes seeded separately hold the same
users and listings (the multi-process chat setup relies on that). Seeding is idempotent: each document
is inserted under its fixed id, and one that already exists is left as it is.

Seeding runs as a list of steps (SEED_STEPS); a later feature adds its own step to the end.

Any number of listings can be seeded (benchmarks use 50,000), and optionally a chat history of any number
of messages: both go in batches through insert_many, a collection round trip per batch rather than per
document, so seeding grows linearly with what it creates.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web
from beanie import Document
from pymongo.errors import BulkWriteError, DuplicateKeyError

from documents.base import collection_of
from documents.chat import (
    RECENT_MESSAGES,
    Chat,
    ChatMessage,
    RecentMessage,
    SenderType,
    chat_id_for,
    message_id_for,
    name_based_id,
)
from documents.property import (
    Analytics,
    BHKType,
    Location,
    Property,
    PropertyDetails,
    PropertyType,
    VerificationTier,
)
from documents.user import SubscriptionTier, User, UserType, VerificationStatus
from homer_rt.appkeys import CLOCK, HASHER, STORE
from homer_rt.clock import Clock
from homer_rt.security import PasswordHasher
from homer_rt.services.chats import CHAT_ID_SECRET
from homer_rt.services.lifestyle import MockLifestyleProvider
from homer_rt.services.properties.quota import give_back_listing_slot, take_listing_slot
from homer_rt.services.server_secrets import server_secret

log = logging.getLogger(__name__)

DEMO_PASSWORD = "HomerDemo@2026"
DEMO_EPOCH = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
DEMO_NAMESPACE = uuid.UUID("6f1c8a52-3b7e-5d41-9a0c-4e2f7b9d1c35")
DEFAULT_DEMO_PROPERTIES = 60
# Documents per insert_many: large enough that the per-call cost vanishes, small enough to bound memory.
SEED_BATCH = 1000
# A seeded chat history spreads its messages over chats of about this many messages each.
HISTORY_MESSAGES_PER_CHAT = 100


def demo_id(name: str) -> str:
    """The fixed id of a demo document, e.g. demo_id("user:owner1"), demo_id("property:7")."""
    return str(uuid.uuid5(DEMO_NAMESPACE, name))


@dataclass(frozen=True, slots=True)
class DemoAccount:
    key: str
    email: str
    phone: str
    full_name: str
    user_type: UserType
    premium: bool = False
    verified: bool = False

    @property
    def user_id(self) -> str:
        return demo_id(f"user:{self.key}")


DEMO_OWNERS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "owner1", "owner1@demo.homer.in", "+919800000001", "Ramesh Iyer", UserType.OWNER, verified=True
    ),
    DemoAccount(
        "owner2", "owner2@demo.homer.in", "+919800000002", "Sunita Deshpande", UserType.OWNER, verified=True
    ),
    DemoAccount("owner3", "owner3@demo.homer.in", "+919800000003", "Farhan Qureshi", UserType.OWNER),
    DemoAccount("owner4", "owner4@demo.homer.in", "+919800000004", "Lakshmi Narayanan", UserType.OWNER),
    DemoAccount(
        "owner5", "owner5@demo.homer.in", "+919800000005", "Gurpreet Sandhu", UserType.BOTH, verified=True
    ),
    DemoAccount("owner6", "owner6@demo.homer.in", "+919800000006", "Meera Reddy", UserType.OWNER),
)
DEMO_RENTERS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "renter1", "renter1@demo.homer.in", "+919900000001", "Ananya Sharma", UserType.RENTER, premium=True
    ),
    DemoAccount(
        "renter2", "renter2@demo.homer.in", "+919900000002", "Rohit Verma", UserType.RENTER, verified=True
    ),
    DemoAccount("renter3", "renter3@demo.homer.in", "+919900000003", "Priya Nair", UserType.RENTER),
    DemoAccount("renter4", "renter4@demo.homer.in", "+919900000004", "Arjun Mehta", UserType.RENTER),
)
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = DEMO_OWNERS + DEMO_RENTERS
PREMIUM_RENTER = DEMO_RENTERS[0]
PREMIUM_UNTIL = datetime(2036, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class _Locality:
    name: str
    latitude: float
    longitude: float
    pincode: str
    landmarks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _City:
    name: str
    state: str
    rent_factor: float  # relative to Bengaluru
    localities: tuple[_Locality, ...]


CITIES: tuple[_City, ...] = (
    _City(
        "Bengaluru",
        "Karnataka",
        1.0,
        (
            _Locality("Koramangala", 12.9352, 77.6245, "560034", ("Forum Mall", "Sony World Signal")),
            _Locality("Indiranagar", 12.9784, 77.6408, "560038", ("100 Feet Road", "Indiranagar Metro")),
            _Locality("HSR Layout", 12.9121, 77.6446, "560102", ("Agara Lake", "27th Main Road")),
            _Locality("Whitefield", 12.9698, 77.7500, "560066", ("ITPL", "Phoenix Marketcity")),
            _Locality("Jayanagar", 12.9299, 77.5826, "560041", ("Jayanagar 4th Block", "Lalbagh West Gate")),
        ),
    ),
    _City(
        "Mumbai",
        "Maharashtra",
        1.6,
        (
            _Locality("Andheri West", 19.1364, 72.8296, "400053", ("Lokhandwala Market", "Versova Metro")),
            _Locality("Bandra West", 19.0596, 72.8295, "400050", ("Carter Road", "Linking Road")),
            _Locality("Powai", 19.1176, 72.9060, "400076", ("Hiranandani Gardens", "Powai Lake")),
            _Locality("Thane West", 19.2183, 72.9781, "400601", ("Viviana Mall", "Upvan Lake")),
        ),
    ),
    _City(
        "Pune",
        "Maharashtra",
        0.8,
        (
            _Locality("Kothrud", 18.5074, 73.8077, "411038", ("Karve Road", "MIT College")),
            _Locality(
                "Hinjewadi", 18.5913, 73.7389, "411057", ("Rajiv Gandhi Infotech Park", "Wakad Bridge")
            ),
            _Locality("Viman Nagar", 18.5679, 73.9143, "411014", ("Phoenix Marketcity", "Pune Airport")),
            _Locality("Baner", 18.5590, 73.7868, "411045", ("Baner Road", "Balewadi High Street")),
        ),
    ),
    _City(
        "Hyderabad",
        "Telangana",
        0.85,
        (
            _Locality("Gachibowli", 17.4401, 78.3489, "500032", ("DLF Cyber City", "ISB")),
            _Locality("Madhapur", 17.4483, 78.3915, "500081", ("HITEC City", "Shilparamam")),
            _Locality("Banjara Hills", 17.4156, 78.4347, "500034", ("Road No. 12", "GVK One Mall")),
            _Locality("Kondapur", 17.4622, 78.3568, "500084", ("Botanical Garden", "Kondapur Main Road")),
        ),
    ),
    _City(
        "Delhi",
        "Delhi",
        1.2,
        (
            _Locality("Saket", 28.5245, 77.2066, "110017", ("Select Citywalk", "Saket Metro")),
            _Locality("Dwarka", 28.5921, 77.0460, "110075", ("Dwarka Sector 10 Metro", "Vegas Mall")),
            _Locality("Lajpat Nagar", 28.5677, 77.2433, "110024", ("Central Market", "Lajpat Nagar Metro")),
            _Locality("Rohini", 28.7383, 77.0822, "110085", ("Rohini West Metro", "Adventure Island")),
        ),
    ),
    _City(
        "Chennai",
        "Tamil Nadu",
        0.9,
        (
            _Locality("Adyar", 13.0012, 80.2565, "600020", ("Adyar Signal", "Theosophical Society")),
            _Locality("Velachery", 12.9815, 80.2180, "600042", ("Phoenix Marketcity", "Velachery MRTS")),
            _Locality("Anna Nagar", 13.0850, 80.2101, "600040", ("Anna Nagar Tower Park", "2nd Avenue")),
            _Locality(
                "OMR Sholinganallur", 12.9010, 80.2279, "600119", ("ELCOT SEZ", "Sholinganallur Junction")
            ),
        ),
    ),
    _City(
        "Kolkata",
        "West Bengal",
        0.65,
        (
            _Locality("Salt Lake", 22.5867, 88.4171, "700091", ("City Centre", "Sector V")),
            _Locality("Ballygunge", 22.5266, 88.3650, "700019", ("Gariahat Market", "Ballygunge Phari")),
        ),
    ),
)

# Base monthly rent in Bengaluru, in rupees, by BHK.
_BASE_RENT = {
    BHKType.ONE_BHK: 16000,
    BHKType.TWO_BHK: 26000,
    BHKType.THREE_BHK: 40000,
    BHKType.FOUR_PLUS_BHK: 70000,
}
_AREA_SQFT = {
    BHKType.ONE_BHK: 550,
    BHKType.TWO_BHK: 1050,
    BHKType.THREE_BHK: 1500,
    BHKType.FOUR_PLUS_BHK: 2400,
}
_AMENITIES = (
    "lift",
    "power_backup",
    "security",
    "gym",
    "swimming_pool",
    "clubhouse",
    "children_play_area",
    "covered_parking",
    "gas_pipeline",
    "rainwater_harvesting",
    "intercom",
    "wifi",
)
_FURNISHING = ("unfurnished", "semi-furnished", "fully-furnished")
_FACING = ("north", "east", "west", "south", "north-east")
_TENANTS = ("family", "bachelors", "any", "working_professionals")
_TYPE_LABEL = {
    PropertyType.APARTMENT: "Apartment",
    PropertyType.VILLA: "Villa",
    PropertyType.INDEPENDENT_HOUSE: "Independent House",
    PropertyType.PG: "PG",
}
_CROSS = ("1st", "2nd", "3rd", "5th", "8th")
_ADJECTIVES = ("Sunny", "Spacious", "Airy", "Well-kept", "Modern", "Quiet", "Bright", "Cosy")


@dataclass
class DemoSummary:
    """What a seeding run did: ``created`` counts new documents per kind (0 on a re-run)."""

    users: int = 0
    properties: int = 0
    created: dict[str, int] = field(default_factory=dict)
    seeded_at: datetime | None = None

    def count(self, kind: str, created: bool) -> None:
        self.created[kind] = self.created.get(kind, 0) + (1 if created else 0)


@dataclass
class DemoContext:
    """What a seeding step gets: the run's parameters and the summary it adds to."""

    clock: Clock
    hasher: PasswordHasher
    lifestyle: MockLifestyleProvider
    properties: int
    summary: DemoSummary
    messages: int = 0
    password_hash: str = ""
    property_ids: list[str] = field(default_factory=list)


SeedStep = Callable[[DemoContext], Awaitable[None]]


async def _insert_new(documents: list[Any], insert_many: Callable[..., Awaitable[Any]]) -> int:
    """Insert a batch under fixed ids with one unordered insert_many; how many were new (the others already
    exist and are left as they are, like _insert_once does one by one)."""
    return len(await _inserted(documents, insert_many))


async def _inserted(documents: list[Any], insert_many: Callable[..., Awaitable[Any]]) -> list[Any]:
    """_insert_new, answering which of ``documents`` were new."""
    if not documents:
        return []
    try:
        await insert_many(documents, ordered=False)
    except BulkWriteError as error:
        write_errors = error.details.get("writeErrors", [])
        if any(write_error.get("code") != 11000 for write_error in write_errors):
            raise
        existing = {int(write_error["index"]) for write_error in write_errors}
        return [document for index, document in enumerate(documents) if index not in existing]
    return documents


async def _insert_once(document: Document) -> bool:
    """Insert under the document's fixed id; False when it (or its unique email/phone) already exists."""
    try:
        await document.insert()
    except DuplicateKeyError:
        return False
    return True


def _account_user(account: DemoAccount, index: int, password_hash: str) -> User:
    created_at = DEMO_EPOCH - timedelta(days=120 - index * 3)
    values: dict[str, Any] = {}
    if account.premium:
        values.update(
            subscription_tier=SubscriptionTier.PREMIUM,
            subscription_start=DEMO_EPOCH,
            subscription_end=PREMIUM_UNTIL,
        )
    if account.verified and account.user_type in (UserType.OWNER, UserType.BOTH):
        values.update(
            is_verified_owner=True,
            owner_verification_status=VerificationStatus.VERIFIED,
            owner_verification_reviewed_at=created_at + timedelta(days=2),
        )
    if account.verified and account.user_type in (UserType.RENTER, UserType.BOTH):
        values.update(
            is_verified_renter=True,
            renter_verification_status=VerificationStatus.VERIFIED,
            renter_verification_reviewed_at=created_at + timedelta(days=2),
        )
    return User(
        id=account.user_id,
        email=account.email,
        phone=account.phone,
        password_hash=password_hash,
        user_type=account.user_type,
        full_name=account.full_name,
        created_at=created_at,
        **values,
    )


async def seed_users(ctx: DemoContext) -> None:
    # bcrypt is slow by design: one hash of the shared demo password serves every demo account.
    ctx.password_hash = ctx.password_hash or await ctx.hasher.hash(DEMO_PASSWORD)
    for index, account in enumerate(DEMO_ACCOUNTS):
        created = await _insert_once(_account_user(account, index, ctx.password_hash))
        ctx.summary.count("users", created)
        ctx.summary.users += 1


def demo_owner(index: int) -> DemoAccount:
    """The owner of listing number ``index``."""
    return DEMO_OWNERS[index % len(DEMO_OWNERS)]


def demo_property(index: int, lifestyle: MockLifestyleProvider) -> Property:
    """Listing number ``index``: the same listing every time for the same index."""
    rng = random.Random(f"homer-demo-property-{index}")
    city = CITIES[index % len(CITIES)]
    locality = city.localities[(index // len(CITIES)) % len(city.localities)]
    bhk = rng.choices(list(BHKType), weights=(3, 5, 3, 1))[0]
    if bhk == BHKType.FOUR_PLUS_BHK:
        property_type = rng.choice((PropertyType.VILLA, PropertyType.INDEPENDENT_HOUSE))
    elif bhk == BHKType.ONE_BHK and rng.random() < 0.25:
        property_type = PropertyType.PG
    else:
        property_type = rng.choices((PropertyType.APARTMENT, PropertyType.INDEPENDENT_HOUSE), weights=(5, 1))[
            0
        ]
    furnishing = rng.choice(_FURNISHING)
    furnish_factor = {"unfurnished": 0.9, "semi-furnished": 1.0, "fully-furnished": 1.2}[furnishing]
    # Whole hundreds of rupees, as listings are priced.
    rent = int(_BASE_RENT[bhk] * city.rent_factor * furnish_factor * rng.uniform(0.85, 1.25)) // 500 * 500
    latitude = round(locality.latitude + rng.uniform(-0.01, 0.01), 6)
    longitude = round(locality.longitude + rng.uniform(-0.01, 0.01), 6)
    total_floors = rng.randint(2, 24) if property_type == PropertyType.APARTMENT else rng.randint(1, 3)
    location = Location(
        address=f"{rng.randint(1, 450)}, {rng.choice(_CROSS)} Cross, {locality.name}",
        city=city.name,
        state=city.state,
        pincode=locality.pincode,
        latitude=latitude,
        longitude=longitude,
        locality=locality.name,
        landmarks=list(locality.landmarks),
    )
    created_at = DEMO_EPOCH + timedelta(hours=9 * index + rng.randint(0, 8))
    verified = index % 3 == 0
    owner = demo_owner(index)
    bathrooms = {BHKType.ONE_BHK: 1, BHKType.TWO_BHK: 2, BHKType.THREE_BHK: 3, BHKType.FOUR_PLUS_BHK: 4}[bhk]
    label = _TYPE_LABEL[property_type]
    title = (
        f"{rng.choice(_ADJECTIVES)} PG room near {locality.landmarks[0]}"
        if property_type == PropertyType.PG
        else f"{rng.choice(_ADJECTIVES)} {bhk.value} {label} in {locality.name}"
    )
    return Property(
        id=demo_id(f"property:{index}"),
        owner_id=owner.user_id,
        title=title,
        description=(
            f"{label} in {locality.name}, {city.name}, close to {' and '.join(locality.landmarks)}. "
            f"{furnishing.capitalize()}, {total_floors}-floor building, good water supply and ventilation."
        ),
        property_type=property_type,
        bhk_type=bhk,
        rent_paise=rent * 100,
        security_deposit_paise=rent * rng.choice((2, 3, 6, 10)) * 100,
        maintenance_charges_paise=rng.choice((0, 1000, 1500, 2500, 3500)) * 100,
        location=location,
        details=PropertyDetails(
            carpet_area=float(int(_AREA_SQFT[bhk] * rng.uniform(0.85, 1.2))),
            total_floors=total_floors,
            floor_number=rng.randint(0, total_floors - 1) if total_floors > 1 else 0,
            furnishing=furnishing,
            parking=rng.choice(("none", "bike", "car", "car_and_bike")),
            amenities=sorted(rng.sample(_AMENITIES, rng.randint(2, 7))),
            bathrooms=bathrooms,
            balconies=rng.randint(0, 3),
            facing=rng.choice(_FACING),
            age_of_property=rng.choice(("0-1 years", "1-5 years", "5-10 years", "10+ years")),
            available_from=date(2025, 7, 1) + timedelta(days=rng.randint(0, 120)),
            preferred_tenants=rng.choice(_TENANTS),
            pets_allowed=rng.random() < 0.4,
            vegetarian_only=rng.random() < 0.2,
        ),
        is_verified=verified,
        verification_tier=VerificationTier.VERIFIED if verified else VerificationTier.FREE,
        verification_date=created_at + timedelta(days=1) if verified else None,
        verification_fee_paid=verified,
        lifestyle_data=lifestyle.compute(location=location, now=created_at),
        analytics=Analytics(),
        created_at=created_at,
    )


async def seed_properties(ctx: DemoContext) -> None:
    ctx.summary.created.setdefault("properties", 0)
    for start in range(0, ctx.properties, SEED_BATCH):
        batch = [
            demo_property(index, ctx.lifestyle)
            for index in range(start, min(start + SEED_BATCH, ctx.properties))
        ]
        # Counted as the app counts new active listings (slots first, given back for those that existed);
        # seeding is not capped, so a large demo gives owners more than MAX_ACTIVE_LISTINGS_PER_OWNER.
        per_owner = Counter(listing.owner_id for listing in batch)
        for owner_id, count in per_owner.items():
            await take_listing_slot(owner_id=owner_id, limit=None, count=count)
        inserted = await _inserted(batch, Property.insert_many)
        per_owner.subtract(listing.owner_id for listing in inserted)
        for owner_id, count in per_owner.items():
            if count:
                await give_back_listing_slot(owner_id=owner_id, count=count)
        ctx.summary.created["properties"] += len(inserted)
        ctx.summary.properties += len(batch)
        ctx.property_ids.extend(listing.id for listing in batch)


DEMO_CHAT_LINES = (
    (SenderType.RENTER, "Hi! Is this flat still available?"),
    (SenderType.OWNER, "Yes, it is. Would you like to see it this weekend?"),
    (SenderType.RENTER, "Saturday 11am works for me."),
)


async def seed_chats(ctx: DemoContext) -> None:
    """One conversation (renter2 and the first listing's owner) under fixed ids, so two processes seeded
    separately hold the same chat; its last line is unread by the owner."""
    if not ctx.property_ids:
        return
    listing = await Property.get(ctx.property_ids[0])
    if listing is None:
        return
    renter_id = DEMO_RENTERS[1].user_id
    chat_id = demo_id("chat:0")
    messages = [
        ChatMessage(
            id=demo_id(f"chat:0:message:{seq}"),
            chat_id=chat_id,
            seq=seq,
            sender_id=renter_id if role is SenderType.RENTER else listing.owner_id,
            sender_type=role,
            message=text,
            timestamp=DEMO_EPOCH + timedelta(days=1, minutes=seq),
            client_msg_id=demo_id(f"chat:0:client:{seq}"),
        )
        for seq, (role, text) in enumerate(DEMO_CHAT_LINES, start=1)
    ]
    last = messages[-1]
    chat = Chat(
        id=chat_id,
        property_id=listing.id,
        renter_id=renter_id,
        owner_id=listing.owner_id,
        participants=[renter_id, listing.owner_id],
        created_at=messages[0].timestamp,
        last_message_at=last.timestamp,
        last_seq=last.seq,
        recent=[message.as_recent() for message in messages],
        sent_renter=2,
        sent_owner=1,
        # Both have read up to the second line; the renter's last line is unread by the owner.
        read_seq_owner=2,
        read_sent_owner=1,
        read_seq_renter=2,
        read_sent_renter=1,
    )
    ctx.summary.count("chats", await _insert_once(chat))
    for message in messages:
        await _insert_once(message)


_HISTORY_LINES = (
    (SenderType.RENTER, "Is the flat still available from next month?"),
    (SenderType.OWNER, "Yes, it is free from the 1st. When would you like to visit?"),
    (SenderType.RENTER, "Could I come on Saturday around 11?"),
    (SenderType.OWNER, "Saturday 11 works. I will share the exact location."),
    (SenderType.RENTER, "Is the maintenance included in the rent?"),
    (SenderType.OWNER, "Maintenance is separate, paid to the society every month."),
    (SenderType.RENTER, "Are pets allowed? We have a small dog."),
    (SenderType.OWNER, "A small dog is fine as long as the neighbours are not disturbed."),
    (SenderType.RENTER, "How many months of deposit do you need?"),
    (SenderType.OWNER, "Three months, refundable when you leave."),
    (SenderType.RENTER, "Is there covered parking for one car?"),
    (SenderType.OWNER, "Yes, one covered slot in the basement."),
)


def _history_chat(
    index: int, property_id: str, owner_id: str, size: int, *, chat_id_key: bytes
) -> tuple[Chat, list[dict[str, Any]]]:
    """Chat number ``index`` of the seeded history: ``size`` messages between a demo renter and the owner of
    ``property_id``, under the ids a live chat between them would have; everything read but the last line."""
    renter_id = DEMO_RENTERS[index % len(DEMO_RENTERS)].user_id
    chat_id = chat_id_for(chat_id_key, property_id, renter_id)
    started = DEMO_EPOCH + timedelta(days=2, minutes=7 * index)
    messages: list[RecentMessage] = []
    for seq in range(1, size + 1):
        role, text = _HISTORY_LINES[(index + seq - 1) % len(_HISTORY_LINES)]
        sender_id = renter_id if role is SenderType.RENTER else owner_id
        client_msg_id = name_based_id(DEMO_NAMESPACE, f"history:{chat_id}:{seq}")
        messages.append(
            RecentMessage(
                message_id=message_id_for(chat_id, sender_id, client_msg_id),
                seq=seq,
                sender_id=sender_id,
                sender_type=role,
                message=text,
                timestamp=started + timedelta(minutes=seq),
                client_msg_id=client_msg_id,
            )
        )
    sent = {role: sum(1 for m in messages if m.sender_type is role) for role in SenderType}
    last = messages[-1]
    # Each side has read everything up to the line before the last; the last line is unread by its recipient.
    read_seq = size - 1
    read_sent = {role: sum(1 for m in messages[:read_seq] if m.sender_type is role) for role in SenderType}
    chat = Chat(
        id=chat_id,
        property_id=property_id,
        renter_id=renter_id,
        owner_id=owner_id,
        participants=[renter_id, owner_id],
        created_at=messages[0].timestamp,
        last_message_at=last.timestamp,
        last_seq=last.seq,
        recent=messages[-RECENT_MESSAGES:],
        sent_renter=sent[SenderType.RENTER],
        sent_owner=sent[SenderType.OWNER],
        read_seq_renter=read_seq,
        read_seq_owner=read_seq,
        read_sent_renter=read_sent[SenderType.OWNER],
        read_sent_owner=read_sent[SenderType.RENTER],
    )
    return chat, [ChatMessage.row_of(message, chat_id=chat_id) for message in messages]


async def seed_chat_history(ctx: DemoContext) -> None:
    """``ctx.messages`` messages (benchmarks use 200,000) in chats of about HISTORY_MESSAGES_PER_CHAT each,
    between the demo renters and the owners of listings 1, 2, ... (listing 0 has the demo chat)."""
    if ctx.messages <= 0:
        return
    pairs = len(DEMO_RENTERS) * max(0, len(ctx.property_ids) - 1)
    if pairs == 0:
        raise ValueError("a demo chat history needs at least 2 demo listings")
    chats = min(pairs, -(-ctx.messages // HISTORY_MESSAGES_PER_CHAT))
    ctx.summary.created.setdefault("chats", 0)
    ctx.summary.created.setdefault("messages", 0)
    batch_chats: list[Chat] = []
    batch_rows: list[dict[str, Any]] = []
    # The store's own key, so these chats have the ids a live initiate between the same pair would give.
    chat_id_key = await server_secret(CHAT_ID_SECRET, now=ctx.clock.now())
    for index in range(chats):
        size = ctx.messages // chats + (1 if index < ctx.messages % chats else 0)
        listing = 1 + index // len(DEMO_RENTERS)
        owner_id = demo_owner(listing).user_id
        chat, rows = _history_chat(index, ctx.property_ids[listing], owner_id, size, chat_id_key=chat_id_key)
        batch_chats.append(chat)
        batch_rows.extend(rows)
        if len(batch_rows) >= SEED_BATCH or index == chats - 1:
            ctx.summary.created["chats"] += await _insert_new(batch_chats, Chat.insert_many)
            messages = collection_of(ChatMessage).insert_many
            ctx.summary.created["messages"] += await _insert_new(batch_rows, messages)
            batch_chats, batch_rows = [], []


# Run in order. A later feature appends its step (it gets the same context, after users and listings).
SEED_STEPS: list[SeedStep] = [seed_users, seed_properties, seed_chats, seed_chat_history]


async def seed_demo(
    *,
    clock: Clock,
    hasher: PasswordHasher,
    properties: int = DEFAULT_DEMO_PROPERTIES,
    messages: int = 0,
    lifestyle: MockLifestyleProvider,
) -> DemoSummary:
    _check_sizes(properties=properties, messages=messages)
    ctx = DemoContext(
        clock=clock,
        hasher=hasher,
        lifestyle=lifestyle,
        properties=properties,
        messages=messages,
        summary=DemoSummary(seeded_at=clock.now()),
    )
    for step in SEED_STEPS:
        await step(ctx)
    return ctx.summary


def credentials_text() -> str:
    lines = [f"demo password for every account: {DEMO_PASSWORD}"]
    for account in DEMO_ACCOUNTS:
        extra = " (premium)" if account.premium else ""
        lines.append(f"  {account.user_type.value:<7} {account.email}{extra}")
    return "\n".join(lines)


def _check_sizes(*, properties: int, messages: int) -> None:
    if properties < 0:
        raise ValueError("the number of demo listings cannot be negative")
    if messages < 0:
        raise ValueError("the number of demo chat messages cannot be negative")
    if messages and properties < 2:
        raise ValueError("a demo chat history needs at least 2 demo listings")


def enable_demo_data(app: web.Application, *, properties: int, messages: int = 0) -> None:
    """Seed demo data once the store is open (``homer-rt serve --demo``)."""
    _check_sizes(properties=properties, messages=messages)

    async def demo_ctx(app: web.Application) -> AsyncIterator[None]:
        summary = await seed_demo(
            clock=app[CLOCK],
            hasher=app[HASHER],
            properties=properties,
            messages=messages,
            lifestyle=MockLifestyleProvider(),
        )
        log.info(
            "demo data ready: %d users, %d listings (new: %s)",
            summary.users,
            summary.properties,
            summary.created,
        )
        # The demo accounts' shared password goes to the terminal, never into the logs.
        print(credentials_text(), flush=True)
        app[STORE].warn_if_too_large()
        yield

    app.cleanup_ctx.append(demo_ctx)
