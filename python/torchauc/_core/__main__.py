"""python -m torchauc._core: print the options table (the README's conventions section)."""

from .options import markdown_table

print(markdown_table())
