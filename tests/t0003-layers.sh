#!/bin/sh
test_description='the house: no two lib/ modules call each other, around any loop; lib/ never includes cmd/'
. "$(dirname "$0")/test-lib.sh"

if ! command -v nm >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
	skip_all "no nm or python3 to read the objects"
fi

test_expect_success 'the objects of this build have no cycle among lib/ modules' '
	variant=$(cat "$SRE_BUILD_DIR/build/VARIANT") &&
	test -n "$variant" &&
	ls "$SRE_BUILD_DIR/build/$variant/lib/"*.o >objects &&
	test_line_count -gt 40 objects &&
	"$SRE_BUILD_DIR/tools/check-cycles" "$SRE_BUILD_DIR/build/$variant" >out 2>&1 &&
	test_grep "^no cycles among" out
'

test_expect_success 'lib/ includes nothing from cmd/' '
	ls "$SRE_BUILD_DIR"/lib/*.c "$SRE_BUILD_DIR"/lib/*.h >sources &&
	test_line_count -gt 80 sources &&
	{ grep -n "^#include.*cmd/" $(cat sources) >includes || :; } &&
	test_line_count = 0 includes
'

# The engines live in lib/; a command parses options, calls one and prints.
test_expect_success 'commands stay thin: no cmd/ file over 600 lines, cmd/fix.c under 450' '
	wc -l "$SRE_BUILD_DIR"/cmd/*.c | sed "/ total\$/d" >sizes &&
	test_line_count -gt 7 sizes &&
	awk "\$1 > 600 { print }" sizes >too-long &&
	test_line_count = 0 too-long &&
	test $(wc -l <"$SRE_BUILD_DIR/cmd/fix.c") -lt 450
'

test_expect_success 'check-cycles finds a cycle when there is one' '
	mkdir -p loop/lib &&
	printf "int b(void); int a(void) { return b(); }\n" >a.c &&
	printf "int a(void); int b(void) { return a(); }\n" >b.c &&
	cc -c -o loop/lib/a.o a.c &&
	cc -c -o loop/lib/b.o b.c &&
	test_expect_code 1 "$SRE_BUILD_DIR/tools/check-cycles" loop >out 2>&1 &&
	test_grep "a -> b: b" out &&
	test_grep "b -> a: a" out
'

test_done
