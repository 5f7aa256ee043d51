#!/usr/bin/env bash
# The original design's reference run, end to end, against a running service:
#   scripts/artillery-burst.sh [BASE_URL]   (default http://127.0.0.1:3000)
# Logs in as ADMIN_EMAIL/ADMIN_PASSWORD, creates a coupon of 100 (or, with COUPON_ID set, uses that
# one, e.g. a campaign made and watched on /admin), writes 300 tokens, runs artillery-test.yaml
# (300 arrivals within 1 s), then checks the database with validate-db.sh.
# Needs Artillery installed once with `npm run load:install`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .env ]; then set -a; . ./.env; set +a; fi
base="${1:-http://127.0.0.1:${PORT:-3000}}"
: "${ADMIN_EMAIL:?set ADMIN_EMAIL and ADMIN_PASSWORD (the service bootstraps that admin)}"
[ -x load/node_modules/.bin/artillery ] || { echo "Artillery is not installed: npm run load:install" >&2; exit 2; }

json() { node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const v=JSON.parse(s)$1;if(v===undefined)process.exit(1);console.log(v)})"; }
token=$(curl -sf -XPOST "$base/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" | json .accessToken)
if [ -n "${COUPON_ID:-}" ]; then
  coupon="$COUPON_ID"
  curl -sf "$base/coupons/$coupon" -H "authorization: Bearer $token" >/dev/null || { echo "no coupon $coupon" >&2; exit 2; }
  echo "coupon $coupon (given)"
else
  coupon=$(curl -sf -XPOST "$base/coupons" -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"name":"Artillery burst","totalQuantity":100}' | json .id)
  echo "coupon $coupon created"
fi
npx ts-node generate-tokens.ts --count 300 --out tokens.csv
TARGET="$base" COUPON_ID="$coupon" load/node_modules/.bin/artillery run artillery-test.yaml
scripts/validate-db.sh "$coupon"
