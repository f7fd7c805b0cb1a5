"""An agent-style loop: orient, act one command at a time, react to failures, leave a note.

What a model-driven agent does with Trove, without the model: read the workspace's bootstrap
block, keep shell setup in ``init.sh`` so every fresh shell starts in the project, run planned
steps with ``exec_detailed`` (branching on the exit code, never on parsed text), use
``exec_chain`` where steps must share a ``cd``, and write ``agent.md`` for the next session.

    export TROVE_BASE_URL=http://127.0.0.1:8787 TROVE_API_KEY=trove-sk-... TROVE_NAMESPACE=demo
    python examples/agent_loop.py
"""

from __future__ import annotations

from trove_sdk import TroveClient

INIT = """\
mkdir -p workspace/project
cd workspace/project
export PROJECT=weather
"""

DATA = "city,temp\nOslo,3\nLima,19\nCairo,24\nPerth,22\n"

PLAN = [
    'echo "project=$PROJECT cwd=$(pwd)"',
    "wc -l < data.csv",
    "awk -F, 'NR > 1 { s += $2; n++ } END { printf \"mean=%.1f\\n\", s / n }' data.csv",
    "cat thresholds.txt",  # missing on the first run: the loop has to recover
    "awk -F, -v t=\"$(cat thresholds.txt)\" 'NR > 1 && $2 > t { print $1 }' data.csv",
]


def main() -> None:
    with TroveClient.from_env() as trove:
        print(trove.bootstrap().as_system_prompt_block())

        trove.set_init(INIT)  # every later command starts in workspace/project
        trove.write("workspace/project/data.csv", DATA)

        for step in PLAN:
            result = trove.exec_detailed(step)
            if result.exit_code != 0 and "thresholds.txt" in result.stderr:
                print(f"✗ {step}\n  {result.stderr.strip()} — creating it and retrying")
                trove.write("workspace/project/thresholds.txt", "20\n")
                result = trove.exec_detailed(step)
            mark = "✓" if result.ok else "✗"
            print(f"{mark} {step}\n  {result.stdout.strip()}  ({result.duration_ms} ms)")

        # Steps that share a cd run as one chain: brace groups, stop at the first failure.
        report = trove.exec_chain(
            ["mkdir -p ../reports", "cd ../reports", "date -u +%F > generated.txt", "pwd"]
        )
        print(f"report dir: {report.stdout.strip()}")

        trove.write(
            "workspace/.trove/agent.md",
            "Weather project: data in workspace/project/data.csv, warm cities above the "
            "threshold in thresholds.txt. Next: chart the temperatures.\n",
        )
        print(trove.bootstrap().as_system_prompt_block())


if __name__ == "__main__":
    main()
