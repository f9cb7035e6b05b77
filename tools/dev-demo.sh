# shellcheck shell=bash
# `tools/dev demo`: the customers' onboarding guide, step by step, against the fake LINE platform.
# Sourced by tools/dev (it uses its log, install_missing, build_targets, wait_for_line, stop_pid
# and the DEMO_* channel). Every step shows the exact command it runs and its real output, says
# what to look at, and checks that the output says it: the demo is also a smoke test
# (tests/tools/CMakeLists.txt runs it with --no_pause --no_build).
#
#   tools/dev demo [--no_pause] [--no_build] [--build_dir=DIR]
#
# On a terminal it waits for Enter between steps; --no_pause (the default when standard input is
# not a terminal) runs straight through. --no_build uses the binaries already in DIR (default
# build; relative to the checkout). Exit status: 0 when every step showed what it should.

DEMO_WORK_DIR=''      # the temporary directory: data dir, fixture, callers' tokens, logs
DEMO_PIDS=()          # fake_line, channeld
DEMO_STEP=0
DEMO_PAUSE=false
DEMO_OUT=''           # the last command's output (stdout and stderr)
DEMO_RC=0             # and its exit status
DEMO_BOLD='' DEMO_DIM='' DEMO_RESET=''

# Stops what the demo started, newest first, and removes its directory; runs once, on Ctrl-C,
# SIGTERM or exit.
demo_stop() {
  trap - INT TERM EXIT
  set +e
  local i
  for ((i = ${#DEMO_PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${DEMO_PIDS[i]}"; done
  [ -n "$DEMO_WORK_DIR" ] && [ -z "${DEMO_KEEP:-}" ] && rm -rf "$DEMO_WORK_DIR"
}

# demo_fail WHAT: says which step did not show what it should, with the logs' ends, and exits 1.
demo_fail() {
  printf '\n%sDEMO FAILED at step %d: %s%s\n' "$DEMO_BOLD" "$DEMO_STEP" "$*" "$DEMO_RESET" >&2
  local name
  for name in channeld fake_line; do
    [ -f "$DEMO_WORK_DIR/$name.log" ] || continue
    printf -- '--- the end of %s.log:\n' "$name" >&2
    tail -n 15 "$DEMO_WORK_DIR/$name.log" >&2
  done
  exit 1
}

# demo_quote ARG: ARG as a reader would type it in a shell (only what needs quotes is quoted;
# --flag=value keeps the flag outside the quotes).
demo_quote() {
  local arg=$1 prefix=''
  if [[ $arg =~ ^[A-Za-z0-9_@%+=:,./-]*$ ]]; then
    printf '%s' "$arg"
    return
  fi
  if [[ $arg =~ ^(--[a-z_]+=)(.*)$ ]]; then
    prefix=${BASH_REMATCH[1]}
    arg=${BASH_REMATCH[2]}
  fi
  printf "%s'%s'" "$prefix" "${arg//\'/\'\\\'\'}"
}

# demo_step TITLE: a new step's heading, in plain words.
demo_step() {
  DEMO_STEP=$((DEMO_STEP + 1))
  printf '\n%s== Step %d: %s%s\n' "$DEMO_BOLD" "$DEMO_STEP" "$*" "$DEMO_RESET"
}

# demo_note TEXT: one line of context under a heading.
demo_note() { printf '%s%s%s\n' "$DEMO_DIM" "$*" "$DEMO_RESET"; }

# demo_run [VAR=value...] PROGRAM ARGS...: shows the command, runs it and shows its output;
# PROGRAM is channelctl, channeld or curl. Sets DEMO_OUT and DEMO_RC.
demo_run() {
  local env=() shown=() arg program
  while [[ $1 =~ ^[A-Z_]+= ]]; do
    env+=("$1")
    shift
  done
  for arg in "${env[@]}" "$@"; do shown+=("$(demo_quote "$arg")"); done
  printf '$ %s\n' "${shown[*]}"
  case "$1" in
    channelctl) program=$DEMO_BUILD_DIR/client/channelctl ;;
    channeld) program=$DEMO_BUILD_DIR/server/channeld ;;
    *) program=$1 ;;
  esac
  shift
  if DEMO_OUT=$(env "${env[@]}" "$program" "$@" 2>&1); then DEMO_RC=0; else DEMO_RC=$?; fi
  [ -n "$DEMO_OUT" ] && printf '%s\n' "$DEMO_OUT"
  return 0
}

# demo_fake METHOD PATH [BODY] -- FIELD...: calls the fake LINE's control API (playing what a
# person does in LINE's console or app), shows the command and the answer's FIELDs.
demo_fake() {
  local method=$1 path=$2 body='' fields=() field value shown=()
  shift 2
  if [ "${1:-}" != -- ]; then
    body=$1
    shift
  fi
  shift
  fields=("$@")
  local request=(curl -sS -X "$method" "$DEMO_FAKE_URL$path")
  [ -n "$body" ] && request+=(-d "$body")
  for field in "${request[@]}"; do shown+=("$(demo_quote "$field")"); done
  printf '$ %s\n' "${shown[*]}"
  if DEMO_OUT=$("${request[@]}" 2>&1); then DEMO_RC=0; else DEMO_RC=$?; fi
  [ "$DEMO_RC" -eq 0 ] || demo_fail "the fake LINE did not answer: $DEMO_OUT"
  shown=()
  for field in "${fields[@]}"; do
    value=$(demo_json_field "$DEMO_OUT" "$field")
    shown+=("$field=$value")
  done
  printf '%sfake LINE answered (the fields that matter):%s %s\n' "$DEMO_DIM" "$DEMO_RESET" \
    "${shown[*]}"
}

# demo_json_field JSON KEY: the first KEY's value in compact JSON (a string, number or boolean),
# strings without their quotes. The fake LINE's answers are flat enough for this.
demo_json_field() {
  printf '%s' "$1" | grep -o "\"$2\":\(\"[^\"]*\"\|[^,}]*\)" | head -n 1 | cut -d: -f2- |
    sed 's/^"\(.*\)"$/\1/'
}

# demo_token: the caller token add-caller printed (on stdout, the note is on stderr).
demo_token() { grep -E '^[A-Za-z0-9_-]{20,}$' <<<"$DEMO_OUT" | head -n 1; }

# demo_expect RC [PATTERN...]: the last command must have exited with RC and its output must
# match every (extended) PATTERN.
demo_expect() {
  local rc=$1 pattern
  shift
  [ "$DEMO_RC" -eq "$rc" ] || demo_fail "expected exit status $rc, got $DEMO_RC"
  for pattern in "$@"; do
    grep -Eq -- "$pattern" <<<"$DEMO_OUT" || demo_fail "the output does not show /$pattern/"
  done
}

# demo_look TEXT: what to look at in the output above; then, on a terminal, waits for Enter.
demo_look() {
  printf '%s-> %s%s\n' "$DEMO_BOLD" "$*" "$DEMO_RESET"
  if $DEMO_PAUSE; then
    read -r -p "   (Enter: next step) " _ || DEMO_PAUSE=false
  fi
}

# demo_start_fake_line: the fake LINE platform with the demo channel as the customer created it
# in LINE Developers: no webhook URL yet, "Use webhook" off, chat off (Plan A).
demo_start_fake_line() {
  local fixture=$DEMO_WORK_DIR/channels.json log=$DEMO_WORK_DIR/fake_line.log
  printf '{"channels": [{"channel_id": "%s", "channel_secret": "%s", "access_token": "%s", "bot_user_id": "%s", "basic_id": "%s", "display_name": "Shop A", "webhook_active": false, "chat_mode": "bot"}]}\n' \
    "$DEMO_CHANNEL_ID" "$DEMO_SECRET" "$DEMO_TOKEN" "$DEMO_BOT_USER_ID" "$DEMO_LINE_ID" >"$fixture"
  "$DEMO_BUILD_DIR/tools/fake_line/fake_line" --listen=127.0.0.1:0 --fixture="$fixture" \
    >"$DEMO_WORK_DIR/fake_line.out" 2>"$log" &
  DEMO_PIDS+=($!)
  wait_for_line "$DEMO_WORK_DIR/fake_line.out" '^fake_line listening on ' $! fake_line
  DEMO_FAKE_URL=$(sed -n 's/^fake_line listening on //p' "$DEMO_WORK_DIR/fake_line.out")
}

# demo_start_channeld: channeld on free loopback ports, SQLite in the temporary directory,
# calling the fake LINE; exports channelctl's server and (team-a's) caller token.
demo_start_channeld() {
  "$DEMO_BUILD_DIR/server/channeld" --data_dir="$DEMO_WORK_DIR/data" \
    --grpc_listen=127.0.0.1:0 --webhook_listen=127.0.0.1:0 --admin_listen= \
    --line_api_base_url="$DEMO_FAKE_URL" --line_timeout=3s \
    >"$DEMO_WORK_DIR/channeld.out" 2>"$DEMO_WORK_DIR/channeld.log" &
  DEMO_PIDS+=($!)
  wait_for_line "$DEMO_WORK_DIR/channeld.out" '^channeld ready ' $! channeld
  export CHANNELCTL_SERVER
  CHANNELCTL_SERVER=$(sed -n 's/^channeld ready grpc=\([^ ]*\).*/\1/p' "$DEMO_WORK_DIR/channeld.out")
}

# demo_walk: the onboarding guide, step by step.
demo_walk() {
  local channel=(--channel_id="$DEMO_CHANNEL_ID") team_a=--team=team-a dir=$DEMO_WORK_DIR
  local webhook_url reply_token event_id answer='Thanks for writing to Shop A! Your order ships tomorrow.'
  local bind_flags=(--app_name="Shop A" --line_id="${DEMO_LINE_ID#@}"
    --secret_file="$dir/secret.txt" --token_file="$dir/token.txt")

  demo_step 'Each team gets a caller: a token that may act for that team only'
  demo_note "(operators do this once per team; the callers file holds hashes, never tokens)"
  demo_run channeld add-caller --data_dir="$dir/data" --caller_name=shop-a-inbox --caller_teams=team-a
  demo_expect 0 'added caller shop-a-inbox'
  demo_token >"$dir/team-a.token"
  demo_run channeld add-caller --data_dir="$dir/data" --caller_name=shop-b-inbox --caller_teams=team-b
  demo_expect 0 'added caller shop-b-inbox'
  demo_token >"$dir/team-b.token"
  demo_run CHANNELCTL_CALLER_TOKEN_FILE="$dir/data/admin.token" channelctl reload-callers
  demo_expect 0
  export CHANNELCTL_CALLER_TOKEN_FILE=$dir/team-a.token
  demo_note "(from here on channelctl runs as team-a: CHANNELCTL_CALLER_TOKEN_FILE=$dir/team-a.token)"
  demo_look 'the token is printed once; channeld keeps only its hash in the callers file'

  demo_step 'Bind the LINE Official Account with its five values'
  demo_note "(App Name, Channel ID, channel secret, channel access token, LINE ID; the secret and"
  demo_note " token come from files, never from the command line; the LINE ID may omit the @)"
  printf '%s\n' "$DEMO_SECRET" >"$dir/secret.txt"
  printf '%s\n' "$DEMO_TOKEN" >"$dir/token.txt"
  demo_run channelctl bind "$team_a" "${channel[@]}" "${bind_flags[@]}"
  demo_expect 0 '^bound' 'state: +ACTIVE' 'verified_with_line: +yes' 'line_id: +@123abcde'
  demo_look 'LINE confirmed the values belong to one OA (verified_with_line: yes); secrets show only their last 4 characters; "Next:" lists what the customer does in LINE'

  demo_step 'Copy the webhook URL'
  demo_run channelctl webhook-url "$team_a" "${channel[@]}"
  demo_expect 0 '^http://127\.0\.0\.1:[0-9]+/line/webhook/[A-Za-z0-9_-]+$'
  webhook_url=$DEMO_OUT
  demo_look 'this is the URL the customer pastes in LINE Developers; its key is random, not the Channel ID'

  demo_step 'Paste it in LINE Developers and turn on "Use webhook"'
  demo_note '(the customer does this by hand in LINE Developers Console > Messaging API > Webhook'
  demo_note ' settings; here the fake LINE control API plays the customer)'
  demo_fake PATCH "/fake/channels/$DEMO_CHANNEL_ID" \
    "{\"webhook_endpoint\":\"$webhook_url\",\"webhook_active\":true}" -- webhook_endpoint webhook_active
  [ "$(demo_json_field "$DEMO_OUT" webhook_endpoint)" = "$webhook_url" ] ||
    demo_fail 'the fake LINE did not take the webhook URL'
  [ "$(demo_json_field "$DEMO_OUT" webhook_active)" = true ] ||
    demo_fail '"Use webhook" did not turn on'
  demo_look 'LINE now calls our URL for every message to the OA'

  demo_step 'Press "Verify" in LINE Developers'
  demo_note '(LINE sends a signed request with no events; the fake sends the same one)'
  demo_fake POST "/fake/channels/$DEMO_CHANNEL_ID/verify" -- status error
  [ "$(demo_json_field "$DEMO_OUT" status)" = 200 ] || demo_fail 'Verify did not get 200'
  demo_look 'status=200: channeld checked the signature and answered "OK", which LINE shows as "Success"'

  demo_step 'A customer writes to the OA'
  demo_note '(LINE sends a signed webhook with the message; the fake generates one)'
  demo_fake POST "/fake/channels/$DEMO_CHANNEL_ID/webhooks" '{}' -- status webhook_event_id user_id
  [ "$(demo_json_field "$DEMO_OUT" status)" = 200 ] || demo_fail 'the webhook did not get 200'
  event_id=$(demo_json_field "$DEMO_OUT" webhook_event_id)
  demo_look 'status=200: channeld answered only once the event was stored on disk'

  demo_step 'Read the message in our product'
  demo_run channelctl events "$team_a" "${channel[@]}"
  demo_expect 0 "message +$event_id +user:U[0-9a-f]{32} reply_token=[0-9a-f]+ message=text:"
  reply_token=$(grep -Eo 'reply_token=[^ ]+' <<<"$DEMO_OUT" | head -n 1 | cut -d= -f2)
  demo_look 'the event (same webhookEventId as LINE sent) with its reply token, which works once, for about a minute'

  demo_step 'Answer the customer through the OA'
  demo_run channelctl reply "$team_a" "${channel[@]}" --reply_token="$reply_token" --text="$answer"
  demo_expect 0 '^replied: LINE sent 1 message'
  demo_fake GET "/fake/channels/$DEMO_CHANNEL_ID/sent" -- kind to text
  [ "$(demo_json_field "$DEMO_OUT" text)" = "$answer" ] || demo_fail 'the customer did not get the reply'
  demo_look 'the customer got the reply in LINE; channeld holds the access token, the agent never sees it'

  demo_step 'LINE switches "Use webhook" off (its console is known to do that by itself)'
  demo_fake PATCH "/fake/channels/$DEMO_CHANNEL_ID" '{"webhook_active":false}' -- webhook_active
  [ "$(demo_json_field "$DEMO_OUT" webhook_active)" = false ] || demo_fail 'the switch stayed on'
  demo_look "from now on customers' messages silently stop arriving"

  demo_step 'VerifyWebhook finds the problem and says what to do'
  demo_run channelctl verify "$team_a" "${channel[@]}"
  demo_expect 3 'Use webhook +FAIL +"Use webhook" is off' 'verdict: ACTION_NEEDED' \
    'Turn on "Use webhook" in LINE Developers'
  demo_look 'one line per check; the failing one names the problem in plain words, "next steps" says how to fix it; exit status 3 (ACTION_NEEDED) for scripts'

  demo_step 'The customer turns "Use webhook" back on'
  demo_fake PATCH "/fake/channels/$DEMO_CHANNEL_ID" '{"webhook_active":true}' -- webhook_active
  [ "$(demo_json_field "$DEMO_OUT" webhook_active)" = true ] || demo_fail 'the switch stayed off'
  demo_look 'the fix is done in LINE Developers, not in channeld'

  demo_step 'VerifyWebhook passes'
  demo_run channelctl verify "$team_a" "${channel[@]}"
  demo_expect 0 'Use webhook +PASS' 'LINE test delivery +PASS' 'verdict: OK'
  demo_look 'verdict: OK: LINE test-delivered a signed request to our URL; "response settings" says Plan A (chat off)'

  demo_step 'Another team tries to bind the same OA, and is refused'
  demo_run CHANNELCTL_CALLER_TOKEN_FILE="$dir/team-b.token" channelctl bind --team=team-b \
    "${channel[@]}" "${bind_flags[@]}"
  demo_expect 1 'ALREADY_EXISTS \(OA_BOUND_TO_OTHER_TEAM\)' 'already bound to another team'
  demo_look 'one OA belongs to one team; the reason says what to do (unbind it in the other team first)'

  demo_step 'Unbind'
  demo_run channelctl unbind "$team_a" "${channel[@]}"
  demo_expect 0 '^unbound: the webhook URL no longer works and the OA is free' 'state: +UNBOUND' \
    'LINE still sends this channel.s webhooks to the retired URL'
  demo_look 'the OA is free for another team; the last line says what is left to do in LINE'

  demo_step 'What is left: LINE still calls the retired URL, which now answers 404'
  demo_fake POST "/fake/channels/$DEMO_CHANNEL_ID/webhooks" '{}' -- status
  [ "$(demo_json_field "$DEMO_OUT" status)" = 404 ] || demo_fail 'the retired URL did not answer 404'
  demo_look 'nothing is stored for an unbound OA; the customer should clear the URL or turn "Use webhook" off'

  demo_step 'What is left in channeld: the unbound binding, its events and the audit trail'
  demo_run channelctl list "$team_a" --include_unbound
  demo_expect 0 "$DEMO_CHANNEL_ID +@123abcde +UNBOUND"
  demo_run channelctl events "$team_a" "${channel[@]}"
  demo_expect 0 "message +$event_id"
  demo_run channelctl audit "$team_a" "${channel[@]}"
  demo_expect 0 'unbind +[0-9]+ .* shop-a-inbox' 'bind +[0-9]+ .* shop-a-inbox +verified with LINE'
  demo_look 'the binding stays as UNBOUND, stored events stay readable (until --event_retention), the audit names who did what'
}

# demo [--no_pause] [--no_build] [--build_dir=DIR]
demo() {
  local build=true arg
  DEMO_BUILD_DIR=build
  [ -t 0 ] && DEMO_PAUSE=true
  for arg in "$@"; do
    case "$arg" in
      --no_pause) DEMO_PAUSE=false ;;
      --no_build) build=false ;;
      --build_dir=*) DEMO_BUILD_DIR=${arg#--build_dir=} ;;
      *)
        printf 'tools/dev demo: unknown argument %s (--no_pause, --no_build, --build_dir=DIR)\n' \
          "$arg" >&2
        return 2
        ;;
    esac
  done
  if $build; then
    install_missing
    build_targets "$DEMO_BUILD_DIR" channeld channelctl fake_line
  fi
  DEMO_BUILD_DIR=$(cd "$DEMO_BUILD_DIR" && pwd)
  [ -t 1 ] && DEMO_BOLD=$'\e[1m' DEMO_DIM=$'\e[2m' DEMO_RESET=$'\e[0m'

  trap 'demo_stop; exit 130' INT
  trap 'demo_stop; exit 143' TERM
  trap demo_stop EXIT
  DEMO_WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/channeld-demo.XXXXXX")
  demo_start_fake_line
  demo_start_channeld
  printf '%sThe onboarding guide, step by step.%s\n' "$DEMO_BOLD" "$DEMO_RESET"
  cat <<INFO
fake LINE platform  $DEMO_FAKE_URL  (plays LINE, the customer's console and their customers)
channeld            gRPC $CHANNELCTL_SERVER, data in $DEMO_WORK_DIR/data (removed at the end)
channelctl          $DEMO_BUILD_DIR/client/channelctl, with CHANNELCTL_SERVER=$CHANNELCTL_SERVER
INFO
  demo_walk
  printf '\n%sThe demo showed every step (%d).%s\n' "$DEMO_BOLD" "$DEMO_STEP" "$DEMO_RESET"
}
