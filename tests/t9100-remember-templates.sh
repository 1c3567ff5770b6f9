#!/bin/sh
test_description='sre remember templates: log templates of a file; new log patterns in diagnose'
. "$(dirname "$0")/test-lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 to read the JSON"
fi

# app.log: a service's log in several shapes, with variables in each:
# 6 requests, 4 refused connections, 3 slow queries, 2 cache misses and
# a Java-style exception with its stack (the "at" lines share a template).
test_expect_success 'setup: a log of several shapes' '
	for i in 1 2 3 4 5 6; do
		echo "2026-03-02T10:0$i:00.120Z INFO request id=$i$i$i path=/api/v1/cart/$i status=200 duration=1${i}ms"
	done >app.log &&
	for ip in 10.0.0.1 10.0.0.2 10.0.3.7 192.168.1.20; do
		echo "time=\"2026-03-02T10:07:00Z\" level=error msg=\"dial tcp $ip:5432: connect: connection refused\" attempt=3"
	done >>app.log &&
	for ms in 812 1200 950; do
		echo "2026-03-02 10:08:01.000 UTC [4242] LOG:  duration: $ms.5 ms  statement: SELECT * FROM carts WHERE id = 7"
	done >>app.log &&
	echo "Mar  2 10:09:01 web-1 cart[311]: cache miss for key cart:8f3a9c2e1b7d" >>app.log &&
	echo "Mar  2 10:09:02 web-1 cart[311]: cache miss for key cart:0a1b2c3d4e5f" >>app.log &&
	cat >>app.log <<-\EOT &&
	2026-03-02 10:10:00,001 ERROR [main] c.e.CartService: checkout failed
	java.lang.IllegalStateException: cart 1234 is locked
		at com.example.CartService.checkout(CartService.java:88)
		at com.example.Api.handle(Api.java:41)
		at java.base/java.lang.Thread.run(Thread.java:833)
	EOT
	test_line_count = 20 app.log
'

test_expect_success 'the templates, most lines first, with counts and an example' '
	sre remember templates app.log >out &&
	head -2 out >top &&
	cat >expect <<-\EOT &&
	    6  <TS> INFO request id=<NUM> path=<PATH> status=<NUM> duration=<NUM>
	       e.g. 2026-03-02T10:01:00.120Z INFO request id=111 path=/api/v1/cart/1 status=200 duration=11ms
	EOT
	test_cmp expect top &&
	test_grep "^    4  time=<STR> level=error msg=\"dial tcp <IP>: connect: connection refused\" attempt=<NUM>\$" out &&
	test_grep "^    3  <TS> <TS> UTC \[<NUM>\] LOG: duration: <NUM> ms statement: SELECT \* FROM carts WHERE id = <NUM>\$" out &&
	test_grep -x -F "    3  at <*>" out &&
	test_grep "cache miss for key" out &&
	test_grep "^       e.g. java.lang.IllegalStateException: cart 1234 is locked\$" out
'

test_expect_success 'lines that differ only in their variables share a template' '
	test "$(grep -c "^ *[0-9][0-9]*  " out)" = 7 &&
	test "$(awk "/^ *[0-9]+  / { n += \$1 } END { print n }" out)" = 20
'

test_expect_success '- reads standard input, with the same result' '
	sre remember templates - <app.log >stdin.out &&
	test_cmp out stdin.out &&
	cat app.log | sre remember templates - >pipe.out &&
	test_cmp out pipe.out
'

test_expect_success '--json: an array of {template, count, example}, each with its schema' '
	sre remember templates --json app.log >t.json &&
	test "$(field t.json 0 template)" = "<TS> INFO request id=<NUM> path=<PATH> status=<NUM> duration=<NUM>" &&
	test "$(field t.json 0 count)" = 6 &&
	test "$(field t.json 0 example)" = \
		"2026-03-02T10:01:00.120Z INFO request id=111 path=/api/v1/cart/1 status=200 duration=11ms" &&
	test "$(field t.json 1 count)" = 4 &&
	python3 -c "import json, sys
v = json.load(open(\"t.json\"))
assert isinstance(v, list) and len(v) == 7, v
for o in v:
    assert list(o) == [\"schema\", \"template\", \"count\", \"example\"], o
    assert o[\"schema\"] == 1
assert sum(o[\"count\"] for o in v) == 20
"
'

test_expect_success '-n shows at most that many' '
	sre remember templates -n 2 app.log >two &&
	test_line_count = 4 two &&
	head -4 out >expect &&
	test_cmp expect two &&
	sre remember templates --json -n 1 app.log >one.json &&
	python3 -c "import json; assert len(json.load(open(\"one.json\"))) == 1"
'

test_expect_success 'a file that does not exist is fatal, and says which' '
	test_expect_code 128 sre remember templates nope.log >out 2>err &&
	! test -s out &&
	test_grep "^fatal: cannot open .nope.log.: No such file or directory" err
'

test_expect_success 'a directory cannot be read, and is fatal' '
	mkdir dir &&
	test_expect_code 128 sre remember templates dir 2>err &&
	test_grep "cannot read .dir." err &&
	test_grep "^fatal: " err
'

test_expect_success 'no file, or two, is a usage error' '
	test_expect_code 129 sre remember templates 2>err &&
	test_grep -F "usage: sre remember templates [--json] [-n <n>] [--service <name>] (<file> | -)" err &&
	test_expect_code 129 sre remember templates a b 2>err &&
	test_expect_code 129 sre remember templates -n -1 app.log 2>err
'

test_expect_success 'a parameter out of range is fatal and names its key' '
	test_expect_code 128 sre -c remember.template-depth=2 remember templates app.log 2>err &&
	test_grep "remember.template-depth is 2; it takes a whole number from 3 to 16" err &&
	test_expect_code 128 sre -c remember.template-similarity=1.5 remember templates app.log 2>err &&
	test_grep "remember.template-similarity is \"1.5\"; it takes a number from 0 to 1" err &&
	test_expect_code 128 sre -c remember.template-similarity=most remember templates app.log 2>err &&
	test_grep "remember.template-similarity" err &&
	test_expect_code 128 sre -c remember.template-max-children=0 remember templates app.log 2>err &&
	test_grep "remember.template-max-children is 0" err &&
	test_expect_code 128 sre -c remember.template-depth=four remember templates app.log 2>err &&
	test_grep "remember.template-depth" err
'

test_expect_success 'the parameters change the templates' '
	sre -c remember.template-similarity=1 remember templates app.log >strict &&
	test "$(grep -c "^ *[0-9][0-9]*  " strict)" -gt 7 &&
	sre -c remember.template-similarity=0 remember templates app.log >loose &&
	test "$(grep -c "^ *[0-9][0-9]*  " loose)" -lt 7
'

test_expect_success 'control characters never reach the terminal; NUL and bad UTF-8 are read' '
	printf "\033[31mERROR\033[0m disk \033]0;owned\007 full on /dev/sda1\n" >hostile.log &&
	printf "bad \377\376 bytes and a NUL \000 here\n" >>hostile.log &&
	printf "\302\233 C1 control and \033[2J clear\n" >>hostile.log &&
	sre remember templates hostile.log >out &&
	test_line_count = 6 out &&
	! grep "$(printf "\033")" out &&
	! grep "$(printf "\007")" out &&
	! LC_ALL=C grep "$(printf "\302\233")" out &&
	test_grep "ERROR disk" out &&
	sre remember templates --json hostile.log >h.json &&
	python3 -c "import json; json.load(open(\"h.json\"))"
'

# ---- diagnose: a template never seen before the incident opened ----

test_expect_success 'setup: a process service with a log' '
	mkdir -p .sre run &&
	sh -c "echo \$\$" >run/cart.pid &&
	for i in 1 2 3; do
		echo "2026-03-02T10:0$i:00Z INFO request id=$i path=/api/cart status=200 duration=${i}ms"
		echo "2026-03-02T10:0$i:30Z INFO cache hit ratio 0.9$i"
	done >run/cart.log &&
	cat >.sre/config <<-EOT
	[service "cart"]
		runtime = process
		pidfile = $PWD/run/cart.pid
		log = $PWD/run/cart.log
	EOT
'

test_expect_success 'a first diagnosis has no baseline: nothing is new, the templates are recorded' '
	SRE_NOW=2026-03-02T11:00:00Z sre incident open --service cart --title "cart is down" >id1 &&
	SRE_NOW=2026-03-02T11:01:00Z sre diagnose --json "$(cat id1)" >d1.json &&
	test_grep ! "new log pattern" d1.json &&
	test "$(field d1.json log_templates 0 new)" = False &&
	test "$(field d1.json log_templates 0 count)" = 3 &&
	python3 -c "import json
v = json.load(open(\"d1.json\"))[\"log_templates\"]
assert len(v) == 2 and not any(t[\"new\"] for t in v), v
assert all(list(t) == [\"template\", \"count\", \"new\"] for t in v), v
" &&
	sqlite3 "$SRE_DB" "SELECT count, first_seen, last_seen FROM log_templates
		WHERE service = '"'"'cart'"'"' ORDER BY template" >rows &&
	printf "%s\n" "3|2026-03-02T11:01:00Z|2026-03-02T11:01:00Z" \
		"3|2026-03-02T11:01:00Z|2026-03-02T11:01:00Z" >expect &&
	test_cmp expect rows
'

test_expect_success 'a template first seen after the incident opened is a new log pattern' '
	echo "2026-03-02T12:00:00Z ERROR payment gateway timeout after 30s for order 77" >>run/cart.log &&
	echo "2026-03-02T12:00:05Z ERROR payment gateway timeout after 30s for order 78" >>run/cart.log &&
	echo "2026-03-02T12:00:07Z INFO request id=9 path=/api/cart status=200 duration=4ms" >>run/cart.log &&
	SRE_NOW=2026-03-02T12:00:00Z sre incident open --service cart --title "cart fails" \
		--fingerprint manual/cart/fails >id2 &&
	SRE_NOW=2026-03-02T12:01:00Z sre diagnose "$(cat id2)" >d2.out &&
	test_grep "\[logs\] \"new log pattern: <TS> ERROR payment gateway timeout after <NUM> for order <NUM>\"" d2.out &&
	test "$(grep -c "new log pattern" d2.out)" = 1 &&
	sre incident show --json "$(cat id2)" >show.json &&
	sqlite3 "$SRE_DB" "SELECT body FROM diagnoses WHERE incident_id = $(cat id2)" >d2.json &&
	test "$(field d2.json log_templates 0 template)" = \
		"<TS> ERROR payment gateway timeout after <NUM> for order <NUM>" &&
	test "$(field d2.json log_templates 0 new)" = True &&
	test "$(field d2.json log_templates 0 count)" = 2 &&
	test "$(field d2.json log_templates 1 new)" = False &&
	test "$(field d2.json log_templates 1 count)" = 4
'

test_expect_success 'the store keeps first_seen and adds the counts' '
	sqlite3 "$SRE_DB" "SELECT count, first_seen, last_seen FROM log_templates
		WHERE service = '"'"'cart'"'"' ORDER BY first_seen, template" >rows &&
	printf "%s\n" "6|2026-03-02T11:01:00Z|2026-03-02T12:01:00Z" \
		"7|2026-03-02T11:01:00Z|2026-03-02T12:01:00Z" \
		"2|2026-03-02T12:01:00Z|2026-03-02T12:01:00Z" >expect &&
	test_cmp expect rows
'

test_expect_success 'diagnosing the same incident again still calls it new; the first one, not' '
	SRE_NOW=2026-03-02T12:05:00Z sre diagnose --json "$(cat id2)" >again.json 2>err &&
	test "$(field again.json log_templates 0 new)" = True &&
	SRE_NOW=2026-03-02T12:06:00Z sre diagnose --json "$(cat id1)" >old.json 2>err &&
	test_grep ! "new log pattern" old.json
'

test_expect_success '--service remembers a healthy log as the baseline, redacted' '
	for i in 1 2 3; do
		echo "2026-03-03T09:0$i:00Z INFO login ok for user$i token=s3cr3t-$i-value"
		echo "2026-03-03T09:0$i:30Z INFO stock level $i$i for sku $i"
	done >healthy.log &&
	SRE_NOW=2026-03-03T09:30:00Z sre remember templates --service shop healthy.log >out &&
	test_grep "stock level <NUM> for sku <NUM>" out &&
	sqlite3 "$SRE_DB" "SELECT count, first_seen, template FROM log_templates
		WHERE service = '"'"'shop'"'"' ORDER BY template" >rows &&
	test_line_count = 2 rows &&
	test_grep "^3|2026-03-03T09:30:00Z|<TS> INFO stock level <NUM> for sku <NUM>\$" rows &&
	test_grep ! -r "s3cr3t" "$SRE_DB" &&
	sqlite3 "$SRE_DB" "SELECT example FROM log_templates WHERE service = '"'"'shop'"'"'" >examples &&
	test_grep "token=‹redacted:token›" examples
'

test_expect_success '--service again adds the counts; the first diagnosis then sees what is new' '
	SRE_NOW=2026-03-03T09:40:00Z sre remember templates --service shop healthy.log >/dev/null &&
	test "$(sqlite3 "$SRE_DB" "SELECT sum(count) FROM log_templates WHERE service = '"'"'shop'"'"'")" = 12 &&
	mkdir -p run2 &&
	sh -c "echo \$\$" >run2/shop.pid &&
	{ cat healthy.log && echo "2026-03-03T10:00:00Z FATAL out of memory in worker 3"; } >run2/shop.log &&
	cat >>.sre/config <<-EOT &&
	[service "shop"]
		runtime = process
		pidfile = $PWD/run2/shop.pid
		log = $PWD/run2/shop.log
	EOT
	SRE_NOW=2026-03-03T10:00:00Z sre incident open --service shop --title "shop is down" >id3 &&
	SRE_NOW=2026-03-03T10:01:00Z sre diagnose --json "$(cat id3)" >d3.json &&
	test "$(field d3.json log_templates 0 template)" = "<TS> FATAL out of memory in worker <NUM>" &&
	test "$(field d3.json log_templates 0 new)" = True &&
	test "$(field d3.json log_templates 1 new)" = False &&
	grep "new log pattern: <TS> FATAL out of memory in worker <NUM>" d3.json
'

test_expect_success '--service with no name is a usage error' '
	test_expect_code 129 sre remember templates --service "" app.log 2>err &&
	test_grep "needs a service" err
'

test_done
