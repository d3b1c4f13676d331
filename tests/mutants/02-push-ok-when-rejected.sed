# breaks: P-PUSH-5 a push the remote refuses (locked ref) is reported as a success.
# suites: test_push
# also: P-PUSH-3 P-PUSH-4 P-PUSH-9 P-PUSH-15: every refused push (diverged, behind, unreachable) is then reported as success, with the tracking ref moved
s/^\tpush_rc=\$?$/\tpush_rc=0/
