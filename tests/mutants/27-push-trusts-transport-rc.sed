# breaks: F-HOOK-2 over a real server (a URL remote), a push the server's hook refuses is reported as a success and the tracking ref moved, as a client that trusts its transport's return code over the per-ref status would.
# suites: test_faults_hook test_push
s/^\tpush_rc=\$?$/\tpush_rc=$?; case $(g config --get "remote.$remote.url") in *:\/\/*) [ $push_rc -ne 1 ] || { push_rc=0; _out=; g update-ref "$tracking" "$head"; } ;; esac/
