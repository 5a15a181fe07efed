# Door unit start-up: pick the board, run gerbang.startup (compiled; docs/FIRMWARE.md).
import sys

if sys.platform == "esp32":
    from board import esp32 as board
else:
    from board import virtual as board
from gerbang import startup

startup.run(board.Board, board.State)
