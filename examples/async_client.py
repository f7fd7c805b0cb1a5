"""The async client doing concurrent work: many uploads and commands in flight at once.

Each ``exec`` runs in its own fresh shell on the server, so independent commands can run side
by side; one ``AsyncTroveClient`` shares a connection pool between them.

    export TROVE_BASE_URL=http://127.0.0.1:8787 TROVE_API_KEY=trove-sk-... TROVE_NAMESPACE=demo
    python examples/async_client.py
"""

from __future__ import annotations

import asyncio
import time

from trove_sdk import AsyncTroveClient

FILES = 20


async def main() -> None:
    async with AsyncTroveClient.from_env() as trove:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                trove.write(f"workspace/batch/part-{i:02d}.txt", f"part {i}\n" * (i + 1))
                for i in range(FILES)
            )
        )
        print(f"wrote {FILES} files concurrently in {time.perf_counter() - started:.2f}s")

        # Checksums of every file, computed by concurrent commands in separate shells.
        results = await asyncio.gather(
            *(
                trove.exec_detailed(f"sha256sum workspace/batch/part-{i:02d}.txt")
                for i in range(FILES)
            )
        )
        for result in results[:3]:
            print(result.stdout.strip())
        print(f"… {sum(r.ok for r in results)}/{FILES} checksums computed")

        listing, lines = await asyncio.gather(
            trove.list_dir("workspace/batch/"), trove.exec_detailed("cat workspace/batch/* | wc -l")
        )
        print(f"{len(listing)} files, {lines.stdout.strip()} lines in total")


if __name__ == "__main__":
    asyncio.run(main())
