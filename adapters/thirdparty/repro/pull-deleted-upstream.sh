#!/bin/sh
# P-PULL-13: when the upstream branch was deleted on the remote, `git pull
# --ff-only` fails ("no such ref was fetched"), while a plain `git fetch`
# (no prune) followed by a merge of the tracking ref "succeeds" from the
# stale ref.  Exits 0 when plain git shows the difference.
. "$(dirname "$0")/lib.inc"
git init -q --bare -b main r.git
git clone -q r.git a 2>/dev/null; git -C a commit -q --allow-empty -m 1; git -C a push -q origin main
git clone -q r.git b; git -C a commit -q --allow-empty -m 2; git -C a push -q origin main
git -C b fetch -q; git -C a push -q origin main:other; git -C r.git symbolic-ref HEAD refs/heads/other; git -C a push -q origin :main
if git -C b pull -q --ff-only 2>/dev/null; then echo "git pull --ff-only succeeded"; exit 1; fi
echo "git pull --ff-only: fails (upstream deleted on the remote)"
git -C b fetch -q && git -C b merge -q --ff-only @{u} && echo "git fetch && git merge --ff-only @{u}: succeeds from the stale tracking ref"
