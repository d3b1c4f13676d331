# breaks: P-PUSH-3 the push is forced, so a diverged clone overwrites the remote's commits.
# suites: test_push
# also: P-PUSH-4 P-PUSH-15: a forced push also rewinds the remote from a clone that is only behind, and moves the tracking ref where a refused push must leave it
s/push -q --no-follow-tags --/push -q --force --no-follow-tags --/
