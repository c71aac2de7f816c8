from tillit.cli import run

run()
