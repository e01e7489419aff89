"""The bot-creation wizard as clients see it: drafts (autosave) and builder memory (recall of
past choices), their enums, inputs and connection."""

from collections.abc import Sequence
from enum import Enum

import strawberry

from db import builder as db_builder
from db.builder import BuilderDraftRow, BuilderMemoryRow, parse_state
from db.errors import ConflictError
from schema.context import Context, Info
from schema.node import Node
from schema.pagination import Connection
from schema.scalars import JSON, DateTime

MAX_STATE_BYTES = 1024 * 1024
MAX_STATE_DEPTH = 100
MAX_SKILLS = 50
MAX_SKILL_BYTES = 256
MAX_CUSTOM_CATEGORY_BYTES = 256
MAX_MEMORY_LIMIT = 100


async def load_states(context: Context, session_ids: Sequence[str]) -> list[str | None]:
    """Stored states by session id, one statement per batch (None: deleted meanwhile)."""
    found = await db_builder.get_states(context.db.read(), session_ids=session_ids)
    return [found.get(session_id) for session_id in session_ids]


@strawberry.enum(description="The step of the bot-creation wizard.")
class BuilderPhase(Enum):
    BASICS = "basics"
    PERSONALITY = "personality"
    MODEL = "model"
    SKILLS = "skills"
    REVIEW = "review"


@strawberry.enum(description="What a bot is for; CUSTOM carries a free-text label beside it.")
class PurposeCategory(Enum):
    SIMPLE_UTILITY = "simple_utility"
    COMPLEX_ANALYST = "complex_analyst"
    CREATIVE = "creative"
    CODING = "coding"
    RESEARCH = "research"
    CUSTOMER_SERVICE = "customer_service"
    CUSTOM = "custom"


_PHASES = {phase.value: phase for phase in BuilderPhase}


async def draft_state(root: "BuilderDraft", info: Info) -> JSON:
    """BuilderDraft.state: a page lists drafts without their states; the states of the drafts
    whose state is asked for are loaded in one statement."""
    text = root.row.state_json
    if text is None:
        text = await info.context.loader(load_states).load(root.row.session_id)
        if text is None:
            raise ConflictError(f"draft {root.row.session_id} was deleted meanwhile")
    return JSON(parse_state(text))


@strawberry.type(
    description="The autosaved state of one bot-creation wizard session, identified by sessionId."
)
class BuilderDraft:
    session_id: strawberry.ID = strawberry.field(description="The wizard session's UUID.")
    state: JSON = strawberry.field(
        resolver=draft_state,
        description="The builder state document, returned exactly as saved (a JSON object). "
        "A stored text that is not JSON (written outside this API) comes back as a JSON string.",
    )
    row: strawberry.Private[BuilderDraftRow]  # its state is parsed only when asked for
    schema_version: int = strawberry.field(description="Version of the state's shape (>= 1).")
    revision: int = strawberry.field(
        description="1 on first save, +1 per save; pass it as expectedRevision to save safely."
    )
    created_at: DateTime = strawberry.field(description="When the draft was first saved.")
    updated_at: DateTime = strawberry.field(description="When the draft was last saved.")
    initial_description: str = strawberry.field(
        description="Taken from state.initial_description; empty string when absent or not a "
        "string."
    )
    phase: BuilderPhase | None = strawberry.field(
        description="Taken from state.phase; null when absent or not a known phase."
    )

    @classmethod
    def from_row(cls, row: BuilderDraftRow) -> "BuilderDraft":
        return cls(
            session_id=strawberry.ID(row.session_id),
            row=row,
            schema_version=row.schema_version,
            revision=row.revision,
            created_at=DateTime(row.created_at),
            updated_at=DateTime(row.updated_at),
            initial_description=row.initial_description,
            phase=None if row.phase is None else _PHASES.get(row.phase),
        )


BuilderDraftConnection = Connection[BuilderDraft]


@strawberry.input(
    description="A draft to store (upsert by sessionId; createdAt is kept, revision advances)."
)
class SaveBuilderDraftInput:
    session_id: strawberry.ID = strawberry.field(description="The wizard session's UUID.")
    state: JSON = strawberry.field(
        description=f"The builder state: a JSON object of at most {MAX_STATE_BYTES} bytes of "
        f"compact JSON text (1 MiB), nested at most {MAX_STATE_DEPTH} levels deep; stored and "
        "returned as given."
    )
    schema_version: int = strawberry.field(
        default=1, description="Version of the state's shape; at least 1."
    )
    expected_revision: int | None = strawberry.field(
        default=None,
        description="Optimistic concurrency: when given, the save fails with "
        "PRECONDITION_FAILED unless a stored draft exists with this revision.",
    )
    expected_updated_at: DateTime | None = strawberry.field(
        default=None,
        description="The same check by timestamp: echo the updatedAt string verbatim (a "
        "JavaScript Date loses the microseconds). It is as precise as the clock: saves within "
        "one microsecond share an updatedAt, so expectedRevision is the exact check.",
    )


@strawberry.type(description="One finished builder session, remembered to suggest past choices.")
class BuilderMemoryEntry(Node):
    id: strawberry.ID = strawberry.field(description="The entry's UUID (v7).")
    purpose_category: PurposeCategory = strawberry.field(description="What the bot is for.")
    custom_category: str | None = strawberry.field(
        description="The label when purposeCategory is CUSTOM; null otherwise."
    )
    initial_description: str = strawberry.field(
        description="The description the session started from."
    )
    chosen_tone: str | None = strawberry.field(description="The personality tone chosen.")
    chosen_model: str | None = strawberry.field(description="The LLM model chosen.")
    chosen_skills: list[str] = strawberry.field(description="The skills chosen, in order.")
    bot_slug: str | None = strawberry.field(
        description="Slug of the bot the session created (plain text, not a link)."
    )
    created_at: DateTime = strawberry.field(description="When the session was recorded.")

    @classmethod
    def from_row(cls, row: BuilderMemoryRow) -> "BuilderMemoryEntry":
        return cls(
            id=strawberry.ID(row.id),
            purpose_category=PurposeCategory(row.purpose_category),
            custom_category=row.custom_category,
            initial_description=row.initial_description,
            chosen_tone=row.chosen_tone,
            chosen_model=row.chosen_model,
            chosen_skills=row.chosen_skills,
            bot_slug=row.bot_slug,
            created_at=DateTime(row.created_at),
        )


@strawberry.input(description="A finished builder session to remember.")
class RecordBuilderMemoryInput:
    purpose_category: PurposeCategory = strawberry.field(description="What the bot is for.")
    custom_category: str | None = strawberry.field(
        default=None,
        description="The label, required when purposeCategory is CUSTOM and refused otherwise: "
        f"not blank, at most {MAX_CUSTOM_CATEGORY_BYTES} bytes, matched exactly on recall.",
    )
    initial_description: str = strawberry.field(
        description="The description the session started from; at most 64 KiB."
    )
    chosen_tone: str | None = strawberry.field(
        default=None, description="The personality tone chosen."
    )
    chosen_model: str | None = strawberry.field(default=None, description="The LLM model chosen.")
    chosen_skills: list[str] = strawberry.field(
        default_factory=list,
        description=f"The skills chosen: at most {MAX_SKILLS} names of at most "
        f"{MAX_SKILL_BYTES} bytes each.",
    )
    bot_slug: str | None = strawberry.field(
        default=None, description="Slug of the bot the session created."
    )
