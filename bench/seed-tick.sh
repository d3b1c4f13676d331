#!/bin/sh
# The baseline: one timer tick done the seed's way, by a shell adapter over
# the git CLI.  For each repo:
#   git fetch; git rev-list --count HEAD..@{u}; git rev-list --count @{u}..HEAD;
#   git status --porcelain
# then, only when there is something to do, `git pull --ff-only` (behind) and
# `git push` (ahead).  A stable repo costs the four commands and no more.
#
# usage: seed-tick.sh [--no-fetch] REPO...
#   --no-fetch  skip the fetch (and the pull): the no-network tick.
# Prints one line per repo: "REPO behind ahead dirty-lines action".
set -u
fetch=1
if [ "${1:-}" = --no-fetch ]; then
  fetch=0
  shift
fi
rc=0
for r in "$@"; do
  if [ "$fetch" = 1 ]; then
    git -C "$r" fetch -q || rc=1
    behind=$(git -C "$r" rev-list --count 'HEAD..@{u}') || rc=1
  else
    behind=0
  fi
  ahead=$(git -C "$r" rev-list --count '@{u}..HEAD') || rc=1
  dirty=$(git -C "$r" status --porcelain | wc -l) || rc=1
  action=clean
  if [ "$fetch" = 1 ] && [ "${behind:-0}" -gt 0 ]; then
    git -C "$r" pull -q --ff-only || rc=1
    action=pull
  fi
  if [ "${ahead:-0}" -gt 0 ]; then
    git -C "$r" push -q || rc=1
    action="${action}+push"
  fi
  echo "$r $behind $ahead $dirty $action"
done
exit $rc
