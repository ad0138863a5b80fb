"""What the listing routes answer: typed views of the spec's JSON.

A listing itself is shown as ``PropertyOwnerView`` (to its owner and admins) or ``PropertyPublicView`` (to
everyone else), both beside the document in documents.property.
"""

from __future__ import annotations

from typing_extensions import TypedDict

from documents.property import PropertyOwnerView, PropertyPublicView


class CreatedPropertyResponse(TypedDict):
    property_id: str
    property: PropertyOwnerView


class SearchResponse(TypedDict):
    properties: list[PropertyPublicView]
    total_count: int
    page: int
    has_more: bool


class LifestyleSearchResponse(TypedDict):
    """At most ``limit`` listings; ``total_count`` counts every match."""

    properties: list[PropertyPublicView]
    total_count: int


class PropertyDeletedResponse(TypedDict):
    message: str


class ImagesAddedResponse(TypedDict):
    """The URLs of the images this request added, in the order sent."""

    image_urls: list[str]


class ImageRemovedResponse(TypedDict):
    message: str
    image_url: str
    images: list[str]  # the listing's images after the removal
