# breaks: C-16-3 a C-16 pull refused by a local change still moves the branch to the upstream tip, under the old files.
# suites: test_cycle
s/^\tff_to || { skipped=c16; return 1; }$/\tff_to || { [ "$err_class" != would-overwrite ] || g update-ref "$branch_ref" "$t"; skipped=c16; return 1; }/
