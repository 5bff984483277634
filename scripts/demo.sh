#!/usr/bin/env bash
# npm run demo: bring the local stack up (installing what is missing), then run the platform on the
# sample healthcare sources and say where to look in the Temporal Web UI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
source scripts/stack/lib.sh
danau() { node dist/scripts/cli/danau.js "$@"; }
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

step "7. Raw zone -> processed zone: one upsertLakeTable per table (the lake job on local Spark + Hudi)"
for table in clinic.clinic.doctors clinic.clinic.patients clinic.clinic.appointments labs.public.lab_orders labs.public.lab_results; do
  danau lake upsert --table "$table"
done

step "8. The lake, through Spark SQL: rows per table (MoR tables read through their _rt view)"
danau lake query --sql "SELECT 'clinic.patients' AS t, count(*) AS n FROM clinic_clinic_patients
  UNION ALL SELECT 'clinic.appointments (MoR)', count(*) FROM clinic_clinic_appointments_rt
  UNION ALL SELECT 'labs.lab_orders', count(*) FROM labs_public_lab_orders
  UNION ALL SELECT 'labs.lab_results (MoR)', count(*) FROM labs_public_lab_results_rt"

step "9. Warehouse models (config/models/sample.yaml): SCD1 doctors, SCD2 patients, appointment and lab facts, the daily report"
danau models add --file config/models/sample.yaml
danau models build
psql "$DANAU_WAREHOUSE_DATABASE_URL" -X -q -c "SELECT day, city, specialty, appointments, completed FROM analytics.rpt_daily_appointments ORDER BY appointments DESC, day LIMIT 5" || true

step "Where to look"
cat <<MSG
Temporal Web UI:      $UI
  runs for one table:  $UI?query=DanauTable%3D%22clinic.clinic.patients%22
  (or type  DanauTable="labs.public.lab_results"  in the UI's search box)
  the captures:        $UI?query=WorkflowType%3D%22captureSource%22  (danau capture status|pause|resume|stop --source clinic)
Raw zone:             s3://$DANAU_RAW_BUCKET at $DANAU_S3_ENDPOINT (e.g. clinic/appointments/YYYY/MM/DD/*.parquet)
Processed zone:       s3://$DANAU_PROCESSED_BUCKET/<source>/<schema>/<table>/ (Hudi; danau lake batches --table clinic.clinic.patients)
  the lake upserts:    $UI?query=WorkflowType%3D%22upsertLakeTable%22
Stack status:         node dist/scripts/cli/danau.js stack status
Worker log (JSON):    $DANAU_HOME/logs/worker.log
Worker metrics:       http://127.0.0.1:$DANAU_METRICS_PORT/metrics
Captures keep running (as DMS tasks do): danau capture stop --source clinic; danau capture stop --source labs
Stop everything:      node dist/scripts/cli/danau.js stack down
MSG
