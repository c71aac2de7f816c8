"""Everything that talks to the outside world. One subpackage per source."""
