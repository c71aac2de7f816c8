"""Write src/tillit/analyses/data/ar1_ratios.npz: the simulated AR(1) tables the noise model
reads (``tillit.analyses._noise.simulate_ratio_table``), so that no process simulates them
again. Rerun after changing the grid of ρ, the number of draws or the simulation;
tests/test_noise.py checks that the shipped file equals the simulation.

    .venv/bin/python scripts/ar1_ratio_tables.py
"""

from __future__ import annotations

from pathlib import Path

from tillit.analyses._noise import RATIO_TABLES, write_ratio_tables

if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "src" / "tillit" / "analyses" / RATIO_TABLES
    write_ratio_tables(target)
    print(f"wrote {target} ({target.stat().st_size:,} bytes)")
