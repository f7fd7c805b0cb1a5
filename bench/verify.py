"""Webhook verification throughput: trove_sdk against the floor and three established libraries.

Every contender verifies the HMAC *and* parses the JSON body (svix 2.x returns nothing, so a
``json.loads`` is added to compare like with like). Sizes: 256 B, 1 KiB, 16 KiB, 256 KiB.
Every round times all contenders back to back; a contender's figure is its median ratio to the
floor over the rounds (times the floor's best time), so the ratios hold on a noisy machine.

    pip install -r bench/requirements-verify.txt
    python bench/verify.py [--quick]

Targets: trove ≤ 1.3× the floor at every size, and faster than every other library.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import statistics
import sys
import time
import timeit
from collections.abc import Callable

from trove_sdk import WebhookVerifier, sample_event, sign_webhook, verify_webhook

SIZES = [256, 1024, 16 * 1024, 256 * 1024]
TROVE_SECRET = "trove-whsec-3f9a1c0d5e7b2a4c6e8f0a1b2c3d4e5f"
RAW_KEY = b"0123456789abcdef0123456789abcdef"


def make_body(size: int) -> bytes:
    """A real file.written envelope whose path pads it to exactly ``size`` bytes."""
    event = sample_event("file.written", data={"path": "workspace/", "size_bytes": 1832})
    base = len(json.dumps(event, separators=(",", ":")).encode())
    event["data"]["path"] = "workspace/" + "x" * max(0, size - base)
    body = json.dumps(event, separators=(",", ":")).encode()
    assert len(body) == size, (len(body), size)
    return body


def contenders(body: bytes) -> dict[str, Callable[[], object]]:
    now = int(time.time())
    header = sign_webhook(TROVE_SECRET, body, timestamp=now)
    verifier = WebhookVerifier(TROVE_SECRET)
    floor_key = TROVE_SECRET.encode()
    floor_message_prefix = b"%d." % now
    sig = header.split("v1=")[1]

    def floor() -> object:
        ok = hmac.compare_digest(
            hmac.digest(floor_key, floor_message_prefix + body, "sha256").hex(), sig
        )
        assert ok
        return json.loads(body)

    runners: dict[str, Callable[[], object]] = {
        "floor (hmac.digest + json.loads)": floor,
        "trove WebhookVerifier.verify": lambda: verifier.verify(body, header),
        "trove verify_webhook()": lambda: verify_webhook(
            secret=TROVE_SECRET, body=body, signature_header=header
        ),
    }

    try:
        import standardwebhooks

        sw_secret = base64.b64encode(RAW_KEY).decode()
        sw = standardwebhooks.Webhook(sw_secret)
        msg_id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
        signature = base64.b64encode(
            hmac.new(RAW_KEY, f"{msg_id}.{now}.".encode() + body, hashlib.sha256).digest()
        ).decode()
        sw_headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(now),
            "webhook-signature": f"v1,{signature}",
        }
        runners["standardwebhooks 1.1 verify"] = lambda: sw.verify(body, sw_headers)
    except ImportError:
        print("(standardwebhooks not installed: pip install -r bench/requirements-verify.txt)")

    try:
        from svix.webhooks import Webhook as SvixWebhook

        svix_wh = SvixWebhook("whsec_" + base64.b64encode(RAW_KEY).decode())
        msg_id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
        signature = base64.b64encode(
            hmac.new(RAW_KEY, f"{msg_id}.{now}.".encode() + body, hashlib.sha256).digest()
        ).decode()
        svix_headers = {
            "svix-id": msg_id,
            "svix-timestamp": str(now),
            "svix-signature": f"v1,{signature}",
        }

        def svix_verify() -> object:
            svix_wh.verify(body, svix_headers)
            return json.loads(body)

        runners["svix verify + json.loads"] = svix_verify
    except ImportError:
        print("(svix not installed)")

    try:
        import stripe

        stripe_secret = "whsec_" + RAW_KEY.decode()
        stripe_sig = hmac.new(
            stripe_secret.encode(), f"{now}.".encode() + body, hashlib.sha256
        ).hexdigest()
        stripe_header = f"t={now},v1={stripe_sig}"
        text = body.decode()
        runners["stripe Webhook.construct_event"] = lambda: stripe.Webhook.construct_event(
            text, stripe_header, stripe_secret
        )
    except ImportError:
        print("(stripe not installed)")
    return runners


def calibrate(fn: Callable[[], object], target: float) -> int:
    """How many calls take about ``target`` seconds (after a warm-up call, which also proves
    the contender accepts this delivery)."""
    fn()
    number = 1
    while timeit.timeit(fn, number=number) < target:
        number *= 2
    return number


def measure(runners: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Seconds per call for each contender, as the median over rounds of its ratio to the
    floor measured back to back in the same round, times the floor's best time.

    Back-to-back ratios cancel the machine's drift (other processes, frequency changes) far
    better than comparing each contender's best time taken minutes apart.
    """
    numbers = {name: calibrate(fn, 0.01) for name, fn in runners.items()}
    floor = next(iter(runners))
    ratios: dict[str, list[float]] = {name: [] for name in runners}
    best: dict[str, float] = {}
    for _round in range(rounds):
        times = {
            name: timeit.timeit(fn, number=numbers[name]) / numbers[name]
            for name, fn in runners.items()
        }
        for name, t in times.items():
            ratios[name].append(t / times[floor])
            best[name] = min(t, best.get(name, t))
    return {name: statistics.median(ratios[name]) * best[floor] for name in runners}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (noisier)")
    args = parser.parse_args()
    rounds = 15 if args.quick else 60

    failures: list[str] = []
    rows: list[tuple[int, dict[str, float]]] = []
    for size in SIZES:
        rows.append((size, measure(contenders(make_body(size)), rounds)))

    names = list(rows[0][1])
    floor_name, ours = names[0], names[1]
    print()
    print("Webhook verification, µs per delivery (ratio to the floor)")
    header = f"{'contender':36}" + "".join(f"{_label(s):>20}" for s in SIZES)
    print(header)
    print("-" * len(header))
    for name in names:
        cells = []
        for _size, timings in rows:
            if name not in timings:
                cells.append(f"{'n/a':>20}")
                continue
            ratio = timings[name] / timings[floor_name]
            cells.append(f"{timings[name] * 1e6:>10.2f} ({ratio:5.2f}×)")
        print(f"{name:36}" + "".join(cells))
    print()
    for size, timings in rows:
        for trove in names[1:3]:  # the verifier object and the one-call function alike
            ratio = timings[trove] / timings[floor_name]
            if ratio > 1.3:
                failures.append(f"{_label(size)}: {trove} is {ratio:.2f}× the floor (≤ 1.3×)")
            for name in names[3:]:
                if name in timings and timings[trove] >= timings[name]:
                    failures.append(f"{_label(size)}: {trove} is not faster than {name}")
    for size, timings in rows:
        others = [
            f"{timings[n] / timings[ours]:.1f}× slower: {n.split()[0]}"
            for n in names[3:]
            if n in timings
        ]
        print(
            f"{_label(size):>7}: trove {timings[ours] / timings[floor_name]:.2f}× floor; "
            + "; ".join(others)
        )
    print()
    if failures:
        print("TARGETS MISSED:\n  " + "\n  ".join(failures))
        return 1
    print("targets met: ≤ 1.3× the floor and faster than every other library at every size")
    return 0


def _label(size: int) -> str:
    return f"{size // 1024} KiB" if size >= 1024 else f"{size} B"


if __name__ == "__main__":
    sys.exit(main())
