#!/usr/bin/env bash
# Checks one coupon's invariants straight in PostgreSQL:
#   scripts/validate-db.sh COUPON_ID
# Prints total, counter, actual rows, oversell and duplicate holders; exits 1 when any invariant
# fails (counter != rows, rows > total, a user holding two), 2 on usage or connection errors.
# Connection: DATABASE_URL, else DATABASE_HOST/PORT/USER/PASSWORD/NAME, else the embedded
# database of `npm start` (127.0.0.1:54329). Reads .env when present, like the service.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .env ]; then set -a; . ./.env; set +a; fi

id="${1:-}"
if ! [[ "$id" =~ ^[1-9][0-9]{0,9}$ ]]; then echo "usage: $0 COUPON_ID" >&2; exit 2; fi

if [ -n "${DATABASE_URL:-}" ]; then url="$DATABASE_URL"
elif [ -n "${DATABASE_HOST:-}" ]; then
  url="postgres://${DATABASE_USER:-postgres}${DATABASE_PASSWORD:+:$DATABASE_PASSWORD}@${DATABASE_HOST}:${DATABASE_PORT:-5432}/${DATABASE_NAME:-postgres}"
else url="postgres://postgres:postgres@127.0.0.1:54329/coupons"; fi

row=$(psql "$url" -AtqX -v ON_ERROR_STOP=1 -c "
  SELECT c.total_quantity, c.issued_quantity,
         (SELECT count(*) FROM coupon_issues i WHERE i.coupon_id = c.id),
         (SELECT count(*) FROM (SELECT user_id FROM coupon_issues i WHERE i.coupon_id = c.id
                                 GROUP BY user_id HAVING count(*) > 1) d),
         (SELECT count(*) FROM coupon_issues i WHERE i.coupon_id = c.id AND i.redeemed_at IS NOT NULL),
         (SELECT count(*) FROM coupon_issue_cancellations x WHERE x.coupon_id = c.id)
    FROM coupons c WHERE c.id = $id") || { echo "cannot query the database" >&2; exit 2; }
if [ -z "$row" ]; then echo "coupon $id does not exist" >&2; exit 2; fi

IFS='|' read -r total counter actual dups redeemed cancelled <<<"$row"
oversell=$(( actual > total ? actual - total : 0 ))
printf 'coupon %s\n  total:      %s\n  counter:    %s\n  actual:     %s\n  oversell:   %s\n  duplicates: %s\n  redeemed:   %s\n  cancelled:  %s\n' \
  "$id" "$total" "$counter" "$actual" "$oversell" "$dups" "$redeemed" "$cancelled"

failed=0
[ "$counter" -eq "$actual" ] || { echo "FAIL counter $counter != rows $actual"; failed=1; }
[ "$oversell" -eq 0 ] || { echo "FAIL oversold by $oversell"; failed=1; }
[ "$dups" -eq 0 ] || { echo "FAIL $dups users hold more than one"; failed=1; }
[ "$failed" -eq 0 ] && echo "OK all invariants hold"
exit "$failed"
