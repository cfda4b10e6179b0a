#!/bin/sh
# libvi.so exports the public API and nothing else: every dynamic symbol it defines is a
# vi_ name declared in include/vi.h or include/vi/*.h, and every function those headers
# declare is exported (a missing one would fail to link for an embedding program).
. "${top_srcdir:-.}/tests/cli/lib.sh"
SO="$top_builddir/src/.libs/libvi.so"
[ -f "$SO" ] || { echo "SKIP: no shared libvi (configured --disable-shared?)"; exit 77; }
command -v nm >/dev/null 2>&1 || { echo "SKIP: nm not found"; exit 77; }
nm -D --defined-only "$SO" | awk 'NF == 3 { print $3 }' | sort -u >"$TMP/exported"
[ -s "$TMP/exported" ] || fail "nm lists no symbols of $SO"
cat "$top_srcdir/include/vi.h" "$top_srcdir"/include/vi/*.h "$top_builddir"/include/vi/*.h \
  2>/dev/null >"$TMP/headers"
# names declared: functions "vi_x(" and the family types "vi_family_x;"
grep -o '\bvi_[a-z0-9_]*[ ]*(' "$TMP/headers" | tr -d ' (' | sort -u >"$TMP/functions"
grep -o '\bvi_[a-z0-9_]*;' "$TMP/headers" | tr -d ';' | sort -u >"$TMP/variables"
sort -u "$TMP/functions" "$TMP/variables" >"$TMP/declared"
extra=$(comm -23 "$TMP/exported" "$TMP/declared")
[ -z "$extra" ] || fail "exported but not declared in a public header: $(echo $extra)"
# every declared function is exported (names that are function-pointer types are not)
missing=$(comm -13 "$TMP/exported" "$TMP/functions" | while read -r s; do
  grep -q "typedef[^;]*(\*$s)" "$TMP/headers" || echo "$s"; done)
[ -z "$missing" ] || fail "declared in a public header but not exported: $(echo $missing)"
echo "$(wc -l <"$TMP/exported") symbols exported, all public"
exit 0
