# breaks: P-PUSH-3 the push is forced, so a diverged clone overwrites the remote's commits.
# suites: test_push
s/push -q --no-follow-tags --/push -q --force --no-follow-tags --/
