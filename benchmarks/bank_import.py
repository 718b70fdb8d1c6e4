"""How long a bank admin waits for a large import: `jikao bank import` of N spreadsheet rows.

Target (issue 3): 10,000 rows import in well under a minute. Each run starts from a fresh data directory
whose bank key exists (production scrypt cost), and times the whole command as the admin runs it:
Python start, opening the bank with both custodians, reading and checking every row, sealing every
item, the duplicate check and the commit. The baseline, timed in the same run on the same file, is
openpyxl only reading the rows, the floor any .xlsx import pays. Medians over the runs, and the ratio.

    .venv/bin/python benchmarks/bank_import.py --rows 10000 --runs 3
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook, load_workbook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from item_bank.imports import TEMPLATE_HEADERS  # noqa: E402

PASSPHRASES = {
    "JIKAO_CUSTODIAN_A": "bench-custodian-a",
    "JIKAO_CUSTODIAN_B": "bench-custodian-b",
    "JIKAO_BANK_ADMIN": "bench-bank-admin",
}


def rows(n: int) -> list[list]:
    """N distinct, valid items: 60 % single, 20 % multiple, 20 % true/false, over 40 knowledge points."""
    out = []
    for i in range(n):
        kp = f"B-{i % 8 + 1:02d}-{i % 5 + 1:03d}"
        kind = ("单选", "单选", "单选", "多选", "判断")[i % 5]
        stem = f"第{i}号试题：关于曝气池第{i % 97}组参数的说法，正确的是（　）。"
        if kind == "判断":
            out.append(
                [
                    "污水处理工",
                    "四级",
                    kind,
                    stem.replace("（　）", ""),
                    "",
                    "",
                    "",
                    "",
                    "对" if i % 2 else "错",
                    i % 5 + 1,
                    kp,
                    1,
                    "解析",
                ]
            )
        else:
            options = [f"选项{i}-{letter}" for letter in "ABCD"]
            answer = "ABCD"[i % 4] if kind == "单选" else "ACD"
            out.append(["污水处理工", "四级", kind, stem, *options, answer, i % 5 + 1, kp, 1, "解析"])
    return out


def write_files(directory: Path, n: int) -> tuple[Path, Path]:
    table = [TEMPLATE_HEADERS, *rows(n)]
    xlsx = directory / f"bank-{n}.xlsx"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in table:
        sheet.append(row)
    workbook.save(xlsx)
    csv_path = directory / f"bank-{n}.csv"
    with open(csv_path, "w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows(table)
    return xlsx, csv_path


def fresh_bank(template: Path, target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(template, target)
    return target


def time_cli(file: Path, data_dir: Path) -> float:
    env = {**os.environ, **PASSPHRASES}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "server", "bank", "import", str(file), "--data", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"import failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def time_read_only(file: Path) -> float:
    start = time.perf_counter()
    workbook = load_workbook(file, read_only=True, data_only=True)
    count = sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    assert count > 1
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        xlsx, csv_path = write_files(tmp, args.rows)
        template = tmp / "empty-bank"
        init = subprocess.run(
            [sys.executable, "-m", "server", "bank", "init", "--data", str(template)],
            env={**os.environ, **PASSPHRASES},
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        if init.returncode != 0:
            raise SystemExit(init.stderr)
        results = {"xlsx": [], "csv (GBK)": [], "baseline: openpyxl read only": []}
        for run in range(args.runs):
            results["xlsx"].append(time_cli(xlsx, fresh_bank(template, tmp / f"x{run}")))
            results["csv (GBK)"].append(time_cli(csv_path, fresh_bank(template, tmp / f"c{run}")))
            results["baseline: openpyxl read only"].append(time_read_only(xlsx))
    baseline = statistics.median(results["baseline: openpyxl read only"])
    print(f"rows: {args.rows}, runs: {args.runs}, cores: {os.cpu_count()}")
    print("| what | median s | min s | max s | rows/s | × baseline |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, times in results.items():
        median = statistics.median(times)
        print(
            f"| {name} | {median:.2f} | {min(times):.2f} | {max(times):.2f} | {args.rows / median:,.0f} | "
            f"{median / baseline:.1f} |"
        )


if __name__ == "__main__":
    main()
