#!/bin/sh
# Writes the translation units the gcc trace compiles: unit-NN.c for NN in 00..(N-1), each a
# slice of gen-c.py's functions (N defaults to 24, 80 functions a unit).
n=${1:-24}
i=0
while [ $i -lt $n ]; do
  python3 "$(dirname "$0")/gen-c.py" 80 | sed "s/\bf_\([0-9]*\)/f${i}_\1/g; s/\btable_\([0-9]*\)/t${i}_\1/g; s/^int main(void)/int main_$i(void)/" > "$(printf 'unit-%02d.c' $i)"
  i=$((i + 1))
done
