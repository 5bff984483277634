#!/usr/bin/env bash
# npm run demo: bring the local stack up (installing what is missing), then run the platform on the
# sample healthcare sources and say where to look in the Temporal Web UI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
source scripts/stack/lib.sh
danau() { scripts/cli/danau "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

UI="http://${TEMPORAL_ADDRESS%:*}:$TEMPORAL_UI_PORT/namespaces/$TEMPORAL_NAMESPACE/workflows"

step "1. Onboard the sample tables (config/onboarding/sample.yaml): one onboardTable workflow per table"
danau tables add --file config/onboarding/sample.yaml

step "2. The control plane now lists them"
danau tables list

step "3. A bad definition is refused, naming the table and the field, and nothing is written"
danau tables add --source clinic --schema clinic --table patients --precombine full_name --partition-field city \
  || echo "(refused, as it should be)"

step "4. Capture both sources into the raw zone (full load, then a window of changes every 5 s)"
danau capture start --source clinic --window 5
danau capture start --source labs --window 5

step "5. The sample sources keep changing: inserts, updates and deletes in MariaDB and PostgreSQL"
danau sample generate --changes 25 --rounds 2 --every 3 --seed 42
sleep 8
danau capture status --source clinic
danau capture status --source labs

step "6. checkStack: control plane, STANDARD_IA on every zone bucket, and a Spark + Hudi job over s3a://"
danau check

step "7. Warehouse models (config/models/sample.yaml): SCD1 doctors, SCD2 patients, appointment and lab facts, the daily report"
danau models add --file config/models/sample.yaml

step "8. Every table's pipeline on a Temporal Schedule: checks -> lake (Spark + Hudi) -> models -> reporting"
# Every 2 minutes for the demo (the default is every 5); the reprocessing loop every minute, giving up
# after 3 attempts 20 s, 40 s apart, so the broken table below reaches the dead letter while you watch.
# A schedule paused by an earlier demo ("demo over") runs again.
danau schedules resume --source clinic
danau schedules resume --source labs
danau schedules set --source clinic --cron '*/2 * * * *'
danau schedules set --source labs --cron '*/2 * * * *'
danau schedules set --platform reprocess-failed-events --cron '* * * * *' --input '{"maxAttempts":3,"backoffSeconds":20}'
started="$(date -u +%Y-%m-%dT%H:%M:%S)"
danau schedules trigger --source clinic
danau schedules trigger --source labs
danau schedules list

TABLES=(clinic.clinic.doctors clinic.clinic.patients clinic.clinic.appointments labs.public.lab_orders labs.public.lab_results)
# Waits until each table has a completed pipeline run that started after $1 (an ISO time).
wait_for_pipelines() {
  local since="$1" table deadline=$((SECONDS + 900))
  for table in "${TABLES[@]}"; do
    until danau pipeline last --table "$table" --json 2>/dev/null \
        | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);process.exit(r.status==="COMPLETED"&&r.start>process.argv[1]?0:1)})' "$since"; do
      ((SECONDS < deadline)) || die "no completed pipeline run for $table within 15 minutes (danau pipeline last --table $table)"
      sleep 10
    done
    danau pipeline last --table "$table"
  done
}
wait_for_pipelines "$started"

step "9. The lake, through Spark SQL: rows per table (MoR tables read through their _rt view)"
danau lake query --sql "SELECT 'clinic.patients' AS t, count(*) AS n FROM clinic_clinic_patients
  UNION ALL SELECT 'clinic.appointments (MoR)', count(*) FROM clinic_clinic_appointments_rt
  UNION ALL SELECT 'labs.lab_orders', count(*) FROM labs_public_lab_orders
  UNION ALL SELECT 'labs.lab_results (MoR)', count(*) FROM labs_public_lab_results_rt"

report() {
  psql "$DANAU_WAREHOUSE_DATABASE_URL" -X -q -c "SELECT sum(appointments) AS appointments_in_report, max(day) AS latest_day FROM analytics.rpt_daily_appointments" || true
}
step "10. The reporting table the pipelines refreshed"
report
psql "$DANAU_WAREHOUSE_DATABASE_URL" -X -q -c "SELECT day, city, specialty, appointments, completed FROM analytics.rpt_daily_appointments ORDER BY appointments DESC, day LIMIT 5" || true

step "11. A deliberately broken table: clinic.referrals changes a column's type under the platform"
bash scripts/stack/sample.sh clinic-sql -e "CREATE TABLE IF NOT EXISTS referrals (
  referral_id INT PRIMARY KEY, patient_id INT NOT NULL, fee DECIMAL(8,2) NOT NULL,
  referred_at DATETIME(6) NOT NULL, updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6));
  ALTER TABLE referrals MODIFY fee DECIMAL(8,2) NOT NULL;
  INSERT INTO referrals (referral_id, patient_id, fee, referred_at) VALUES (1, 1, 150.00, NOW(6)) ON DUPLICATE KEY UPDATE fee = fee + 1;"
danau tables add --source clinic --schema clinic --table referrals --precombine updated_at --partition-field referred_at --schedule '*/2 * * * *'
sleep 8
bash scripts/stack/sample.sh clinic-sql -e "ALTER TABLE referrals MODIFY fee DECIMAL(12,3) NOT NULL;
  INSERT INTO referrals (referral_id, patient_id, fee, referred_at) VALUES (2, 2, 99.125, NOW(6)) ON DUPLICATE KEY UPDATE fee = fee + 1;"
sleep 8
danau schedules sync
danau pipeline run --table clinic.clinic.referrals || true
danau failed list --table clinic.clinic.referrals

step "12. Meanwhile the sources keep changing, and the schedules carry the changes to the report"
danau sample generate --changes 40 --rounds 1 --seed 7
since="$(date -u +%Y-%m-%dT%H:%M:%S)"
sleep 8
wait_for_pipelines "$since"
report

step "13. The reprocessing loop retries the broken table's failed event with backoff, then dead-letters it"
deadline=$((SECONDS + 600))
until danau failed list --table clinic.clinic.referrals --status dead_letter --json | grep -q '"status": "dead_letter"'; do
  ((SECONDS < deadline)) || die "the failed event of clinic.clinic.referrals did not reach the dead letter within 10 minutes"
  danau failed list --table clinic.clinic.referrals | head -1
  sleep 15
done
danau failed list --table clinic.clinic.referrals --status dead_letter
echo "(an alert went to DANAU_ALERT_WEBHOOK_URL, or the worker log when it is unset; see danau tables show clinic.clinic.referrals)"

step "Where to look"
cat <<MSG
Temporal Web UI:      $UI
  runs for one table:  $UI?query=DanauTable%3D%22clinic.clinic.patients%22
  (or type  DanauTable="labs.public.lab_results"  in the UI's search box)
  the captures:        $UI?query=WorkflowType%3D%22captureSource%22  (danau capture status|pause|resume|stop --source clinic)
Raw zone:             s3://$DANAU_RAW_BUCKET at $DANAU_S3_ENDPOINT (e.g. clinic/clinic/appointments/YYYY/MM/DD/*.parquet: <source>/<schema>/<table>/)
Processed zone:       s3://$DANAU_PROCESSED_BUCKET/<source>/<schema>/<table>/ (Hudi; danau lake batches --table clinic.clinic.patients)
  the lake upserts:    $UI?query=WorkflowType%3D%22upsertLakeTable%22
  table pipelines:     $UI?query=WorkflowType%3D%22runTablePipeline%22  (danau runs list --type runTablePipeline)
  the broken table:    $UI?query=DanauTable%3D%22clinic.clinic.referrals%22
Schedules:            http://${TEMPORAL_ADDRESS%:*}:$TEMPORAL_UI_PORT/namespaces/$TEMPORAL_NAMESPACE/schedules  (danau schedules list)
Failed events:        danau failed list   (retry: danau failed retry <id>; skip: danau failed skip <id> --note …)
Stack status:         scripts/cli/danau stack status
Worker log (JSON):    $DANAU_HOME/logs/worker.log
Worker metrics:       http://127.0.0.1:$DANAU_METRICS_PORT/metrics
Captures and schedules keep running (as DMS tasks and MWAA do):
  danau schedules pause --source clinic --note "demo over"; danau schedules pause --source labs --note "demo over"
  danau capture stop --source clinic; danau capture stop --source labs
Stop everything:      scripts/cli/danau stack down
MSG
