"""The Node interface: every type with an id a client can refetch with node(id)."""

import strawberry


@strawberry.interface(description="An object with a UUID id, refetchable with node(id).")
class Node:
    id: str = strawberry.field(graphql_type=strawberry.ID, description="Lowercase hyphenated UUID.")
