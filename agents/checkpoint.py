"""The thread memory backend: SQLite beside the embedded data, PostgreSQL when the SoR is there."""

from __future__ import annotations

from contextlib import AsyncExitStack

from langgraph.checkpoint.base import BaseCheckpointSaver

from app.settings import Settings


async def open_checkpointer(settings: Settings, stack: AsyncExitStack) -> BaseCheckpointSaver:
    """Open (and create the tables of) the checkpointer; ``stack`` closes it with the agent."""
    url = settings.SOR_URL
    if url.startswith(("postgresql:", "postgres:")):
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        pool: AsyncConnectionPool = AsyncConnectionPool(
            url, min_size=1, max_size=8, open=False,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        )
        await pool.open()
        stack.push_async_callback(pool.close)
        saver: BaseCheckpointSaver = AsyncPostgresSaver(pool)  # type: ignore[arg-type]
        await saver.setup()  # type: ignore[attr-defined]
        return saver
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    settings.checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(str(settings.checkpoint_path))
    stack.push_async_callback(conn.close)
    # WAL (set by setup) + NORMAL sync: a commit per turn without an fsync on every write.
    await conn.execute("PRAGMA synchronous=NORMAL")
    sqlite_saver = AsyncSqliteSaver(conn)
    await sqlite_saver.setup()
    return sqlite_saver
