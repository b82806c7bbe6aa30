Feature: The binary recipe
  A sandbox without Node receives polythene as one downloaded binary: the
  recipe in docs/users-guide.md downloads it and SHA256SUMS, verifies the
  checksum, pulls and execs. The scenarios run that block as written, except
  that a stand-in curl serves a local release and IMAGE names a local image.
  The release's "binary" starts the CLI under test: POLYTHENE_BIN when set,
  otherwise the source under --no-prompt with the compile task's permission
  flags; its SHA256SUMS is written by the compile task's own code.

  Background:
    Given an OCI image layout holding a busybox image
    And a local release whose binary starts the CLI under test

  Scenario: The binary recipe
    When the "A sandbox without Node" recipe runs
    Then the exit code is 0
    And it downloaded this machine's binary, then SHA256SUMS, from one release
    And stdout contains "unknown-linux-gnu: OK"
    And stdout contains "hello from Linux"

  Scenario: A binary that does not match SHA256SUMS stops the recipe
    Given the release's binary changed after SHA256SUMS was written
    When the "A sandbox without Node" recipe runs
    Then the exit code is 1
    And stdout contains "unknown-linux-gnu: FAILED"
    And stderr contains "did NOT match"
    And nothing was pulled
