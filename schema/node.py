"""The Node interface: every type with an id a client can refetch with node(id)."""

import strawberry


@strawberry.interface(description="An object with a UUID id, refetchable with node(id).")
class Node:
    id: strawberry.ID = strawberry.field(description="Lowercase hyphenated UUID.")
