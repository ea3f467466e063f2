"""`python -m bench.x12`: reading a generated 810 interchange (one ISA, one GS, invoices of 10
lines each) of 50k, 200k and 800k segments, next to a plain `data.split(b"~")` and
`.split(b"*")` pass over the same bytes in the same run (the floor: no delimiters read, no
envelope, no objects). Printed per size: segments/s of each, the ratio to the floor (goal: at
least 0.25), and the peak memory of the streaming read.

- `read`: the streaming reader (`iter_transactions`, fed 64 KiB chunks as a file is read):
  tokenizer and envelope checks, every transaction set handed over;
- `read+map`: the same, each 810 also mapped to an `Invoice` (domain/x12/map_810.py) against the
  seed item master, as intake maps it;
- memory: tracemalloc's peak while streaming, the input bytes excluded (a file is read in
  chunks, not held): it stays flat as the file grows, one transaction set at a time. Next to
  it, `read_interchanges` (the whole tree) for contrast, which grows with the file.
Times are the best of `--repeat` runs, the floor and the reader interleaved, so a busy machine
hurts both alike. No thresholds are asserted: this prints numbers.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

from domain.reference import Item, Location
from domain.x12.context import MappingContext, ReferenceData
from domain.x12.map_810 import map_810
from domain.x12.reader import TransactionRead, iter_transactions, read_interchanges

SIZES = (50_000, 200_000, 800_000)
CHUNK = 1 << 16
SEED = Path(__file__).resolve().parents[1] / "sandbox" / "seed"
LINES_PER_INVOICE = 10
GOAL = 0.25


def generate_810(segments: int) -> bytes:
    """One interchange of 810s (about `segments` segments), as a supplier's AP system writes it."""
    head = [
        "ISA*00*          *00*          *ZZ*CASCADIAPHARM  *ZZ*MERCYHEALTH    *261218*1200*U*00401*000004103*0*P*>",
        "GS*IN*CASCADIAPHARM*MERCYHEALTH*20261218*1200*4103*X*004010",
    ]
    out, count = head, 0
    while len(out) < segments - 2:
        count += 1
        body = [
            f"ST*810*{count:04d}",
            f"BIG*20261218*CPD-{count:06d}*20261201*PO-2026-000460",
            "N1*ST*Inpatient pharmacy, St. Anne Medical Center*UL*0614141003006",
            "N1*RE*Cascadia Pharma Distribution Corp*92*SUP-0003",
        ]
        for line in range(1, LINES_PER_INVOICE + 1):
            body.append(f"IT1*{line}*30*CA*38.40**UK*10888881004044*VP*CPD-NS1000*BP*ITM-1004")
            body.append("PID*F****Sodium chloride 0.9% injection, 1000 mL bag")
        body += [f"TDS*{LINES_PER_INVOICE * 115200}", f"CTT*{LINES_PER_INVOICE}"]
        body.append(f"SE*{len(body) + 1}*{count:04d}")
        out += body
    out += [f"GE*{count}*4103", "IEA*1*000004103"]
    return ("~\n".join(out) + "~\n").encode()


def chunks(data: bytes) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(view), CHUNK):
        yield bytes(view[start : start + CHUNK])


def split_pass(data: bytes) -> int:
    count = 0
    for segment in data.split(b"~"):
        segment.split(b"*")
        count += 1
    return count


def read(data: bytes) -> int:
    return sum(1 for event in iter_transactions(chunks(data)) if isinstance(event, TransactionRead))


def reference_data() -> ReferenceData:
    items = [Item.model_validate(i) for i in json.loads((SEED / "items.json").read_text())]
    locations = [Location.model_validate(loc) for loc in json.loads((SEED / "locations.json").read_text())]
    return ReferenceData(items, locations)


def read_and_map(reference: ReferenceData) -> Callable[[bytes], int]:
    def run(data: bytes) -> int:
        mapped = 0
        for event in iter_transactions(chunks(data)):
            if isinstance(event, TransactionRead):
                context = MappingContext.for_transaction(
                    event.interchange, event.group, event.transaction, reference=reference, supplier_id="SUP-0003"
                )
                map_810(event.transaction, context)
                mapped += 1
        return mapped

    return run


def best_time(function: Callable[[bytes], int], data: bytes) -> float:
    started = time.perf_counter()
    function(data)
    return time.perf_counter() - started


def peak_bytes(function: Callable[[bytes], object], data: bytes) -> int:
    tracemalloc.start()
    try:
        function(data)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="segments per interchange")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (the best is kept)")
    args = parser.parse_args()
    mapper = read_and_map(reference_data())
    print(f"{'segments':>9} {'floor seg/s':>12} {'read seg/s':>11} {'ratio':>6} {'read+map seg/s':>15} {'ratio':>6}"
          f" {'stream peak':>12} {'tree peak':>10}")  # fmt: skip
    for size in args.sizes:
        data = generate_810(size)
        segments = data.count(b"~")
        times: dict[str, float] = {}
        for _ in range(args.repeat):
            for name, function in (("floor", split_pass), ("read", read), ("map", mapper)):
                times[name] = min(times.get(name, float("inf")), best_time(function, data))
        stream_peak = peak_bytes(read, data)
        tree_peak = peak_bytes(read_interchanges, data)
        rate = {name: segments / seconds for name, seconds in times.items()}
        print(
            f"{segments:>9,} {rate['floor']:>12,.0f} {rate['read']:>11,.0f} {rate['read'] / rate['floor']:>6.2f}"
            f" {rate['map']:>15,.0f} {rate['map'] / rate['floor']:>6.2f}"
            f" {stream_peak / 1024:>9,.0f} KiB {tree_peak / 2**20:>6,.0f} MiB"
        )
    print(f"goal: read at least {GOAL} of the floor; the stream peak flat as the file grows")


if __name__ == "__main__":
    main()
