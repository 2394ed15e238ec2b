#!/bin/sh
# Banned functions (curl's idea): unbounded copies and parsers without errors.
bad=$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol)[[:space:]]*\(' src/*.c src/*.h 2>/dev/null |
	grep -vE '(snprintf|vsnprintf|xsnprintf)')
if [ -n "$bad" ]; then
	echo "lint: banned functions:"
	echo "$bad"
	exit 1
fi
echo "lint: ok"
