"""Pure text understanding: normalisation, commands, trades, places, posts. No I/O."""
