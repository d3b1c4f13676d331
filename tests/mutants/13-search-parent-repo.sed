# breaks: P-INPUT-6 REPO is resolved with git's upward search, so a subdirectory acts on the parent repository.
# suites: test_input
s/^\tif \[ "\$_top" != "\$_real" \]; then$/\t[ -z "$_top" ] || _real=$_top\n\tif [ "$_top" != "$_real" ]; then/
