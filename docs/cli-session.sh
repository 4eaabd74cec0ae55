#!/usr/bin/env bash
# The CLI session of docs/cli.md on a throwaway Anvil: real commands, real output.
# docs/transcripts.py runs it (make docs); by hand, after `make compile`: bash docs/cli-session.sh
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
export PATH=$REPO/.tools/bin:$REPO/node_modules/.bin:$REPO/.venv/bin:$PATH COLUMNS=118
WORK=$(mktemp -d); mkdir -p "$WORK/root"; ln -s "$REPO/build" "$WORK/root/build"
PORT=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
anvil --port "$PORT" --silent & NODE=$!
trap 'kill $NODE; rm -rf "$WORK"' EXIT
sleep 2
export RPC_URL=http://127.0.0.1:$PORT
# Anvil's well-known dev keys (local chains only): admin, patient, GP, hospital; account 4 is a researcher.
ADMIN=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
PATIENT_KEY=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
HOSPITAL_KEY=0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6
ADMIN_ADDR=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
PATIENT=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
GP=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC
HOSPITAL=0x90F79bf6EB2c4f870365E785982E1f101E93b906
RESEARCHER=0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65
# Two more patients (accounts 5 and 6) who sign a consent each for the clinic's cohort CSV.
COHORT_KEYS="0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba 0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e"
RECORD=0x$(printf '1%.0s' {1..64})
names() { sed -e "s#$WORK/root/##g; s#$WORK/##g" -e "s/$PATIENT/0xPatient/g; s/$GP/0xGP/g; s/$HOSPITAL/0xHospital/g; s/$RESEARCHER/0xResearcher/g" \
  -e "s/$ADMIN_ADDR/0xAdmin/g; s/$RECORD/0xRecord/g; s/0x1111111…1111/0xRecord/g; s/0x111111…1111/0xRecord/g"; }
c() {
  echo "\$ carechain $*" | names
  (cd "$WORK" && carechain --root "$WORK/root" "$@" 2>&1) | names
  local code=${PIPESTATUS[0]}
  [ "$code" = 0 ] || echo "[exit $code]"
}
echo "lab result, encrypted by the hospital" > "$WORK/lab.enc"
export PRIVATE_KEY=$ADMIN
c deploy | grep -v ": deploying"
c credential add-registrar $ADMIN_ADDR
c credential attest $GP -r PROVIDER --license-hash 0x$(printf 'a%.0s' {1..64}) --valid-until 365d
c credential attest $HOSPITAL -r CUSTODIAN --license-hash 0x$(printf 'b%.0s' {1..64}) --valid-until 365d
export PRIVATE_KEY=$PATIENT_KEY
c consent grant $RESEARCHER --purpose HMB --scopes labs,genomics --expires 365d
c consent check $PATIENT $RESEARCHER --purpose HMB --scopes labs
c consent check $PATIENT $RESEARCHER --purpose HMB --scopes mental_health
PRIVATE_KEY=$HOSPITAL_KEY c record anchor $RECORD $PATIENT -c labs --file "$WORK/lab.enc"
c access grant $GP -c labs,medications -e 30d
c access check $GP $RECORD
PRIVATE_KEY=$HOSPITAL_KEY c access log $GP $RECORD -p TREAT
c consent revoke $RESEARCHER --purpose HMB
c index
c audit access $PATIENT --scopes labs --no-sync
c audit reads $RECORD --no-sync
c consent grant 0x12 --purpose HMB --scopes labs
c consent grant $RESEARCHER --purpose NOPE --scopes labs
c access log $GP 0x$(printf '2%.0s' {1..64}) -p TREAT
for key in $COHORT_KEYS; do PRIVATE_KEY=$key c consent sign $RESEARCHER -p HMB -s labs --csv "$WORK/cohort.csv"; done
c consent import "$WORK/cohort.csv"
c consent import "$WORK/cohort.csv"
