import {
  assertEquals,
  assertIncludes,
  assertThrows,
} from "../../helpers/assert.ts";
import {
  digestProblem,
  formatReference,
  manifestReference,
  parseReference,
} from "../../../src/image/reference.ts";
import { UsageError } from "../../../src/errors.ts";

const SHA256 = `sha256:${"f".repeat(64)}`;
const SHA512 = `sha512:${"f".repeat(128)}`;

// Cases from docker's own tests (distribution/reference normalize_test.go
// and reference_test.go), as docker normalises them.
const VALID: [string, string][] = [
  ["busybox", "docker.io/library/busybox:latest"],
  ["docker/docker", "docker.io/docker/docker:latest"],
  ["library/debian", "docker.io/library/debian:latest"],
  ["debian", "docker.io/library/debian:latest"],
  ["docker.io/docker/docker", "docker.io/docker/docker:latest"],
  ["docker.io/library/debian", "docker.io/library/debian:latest"],
  ["docker.io/debian", "docker.io/library/debian:latest"],
  ["index.docker.io/docker/docker", "docker.io/docker/docker:latest"],
  ["index.docker.io/library/debian", "docker.io/library/debian:latest"],
  ["index.docker.io/debian", "docker.io/library/debian:latest"],
  ["127.0.0.1:5000/docker/docker", "127.0.0.1:5000/docker/docker:latest"],
  ["127.0.0.1:5000/library/debian", "127.0.0.1:5000/library/debian:latest"],
  ["127.0.0.1:5000/debian", "127.0.0.1:5000/debian:latest"],
  ["192.168.0.1", "docker.io/library/192.168.0.1:latest"],
  ["192.168.0.1:80", "docker.io/library/192.168.0.1:80"],
  ["192.168.0.1:8/debian", "192.168.0.1:8/debian:latest"],
  ["192.168.0.2:25000/debian", "192.168.0.2:25000/debian:latest"],
  [
    "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
    "docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest",
  ],
  ["[fc00::1]:5000/docker", "[fc00::1]:5000/docker:latest"],
  ["[fc00::1]:5000/docker/docker", "[fc00::1]:5000/docker/docker:latest"],
  [
    "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
    "[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest",
  ],
  [
    "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
    "docker.io/library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:latest",
  ],
  ["Docker/docker", "Docker/docker:latest"],
  ["DOCKER/docker", "DOCKER/docker:latest"],
  ["fooo/bar", "docker.io/fooo/bar:latest"],
  ["other/library", "docker.io/other/library:latest"],
  ["127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase:latest"],
  ["localhost:8000/privatebase", "localhost:8000/privatebase:latest"],
  ["localhost/privatebase", "localhost/privatebase:latest"],
  ["localhost", "docker.io/library/localhost:latest"],
  ["example.com/private/moonbase", "example.com/private/moonbase:latest"],
  ["example.com:8000/privatebase", "example.com:8000/privatebase:latest"],
  ["ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base:latest"],
  ["docker.io/ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base:latest"],
  ["test_com", "docker.io/library/test_com:latest"],
  ["test.com:tag", "docker.io/library/test.com:tag"],
  ["test.com:5000", "docker.io/library/test.com:5000"],
  ["test.com/repo:tag", "test.com/repo:tag"],
  ["test:5000/repo", "test:5000/repo:latest"],
  ["test:5000/repo:tag", "test:5000/repo:tag"],
  [`test:5000/repo@${SHA256}`, `test:5000/repo@${SHA256}`],
  [`test:5000/repo:tag@${SHA256}`, `test:5000/repo:tag@${SHA256}`],
  [`repo@${SHA256}`, `docker.io/library/repo@${SHA256}`],
  ["lowercase:Uppercase", "docker.io/library/lowercase:Uppercase"],
  ["sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com/bar/baz/quux:latest"],
  [
    "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
    "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
  ],
  [
    "b.gcr.io/test.example.com/my-app:test.example.com",
    "b.gcr.io/test.example.com/my-app:test.example.com",
  ],
  ["xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com/myimage:xn--n3h.com"],
  [
    `xn--7o8h.com/myimage:xn--7o8h.com@${SHA512}`,
    `xn--7o8h.com/myimage:xn--7o8h.com@${SHA512}`,
  ],
  ["foo_bar.com:8080", "docker.io/library/foo_bar.com:8080"],
  ["foo/foo_bar.com:8080", "docker.io/foo/foo_bar.com:8080"],
  ["192.168.1.1/repo", "192.168.1.1/repo:latest"],
  ["192.168.1.1:5000/repo", "192.168.1.1:5000/repo:latest"],
  ["[2001:db8::1]/repo", "[2001:db8::1]/repo:latest"],
  ["[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000/repo:tag"],
  [`[2001:db8::1]:5000/repo@${SHA256}`, `[2001:db8::1]:5000/repo@${SHA256}`],
  ["[::1]:5000/repo", "[::1]:5000/repo:latest"],
  ["a__b/c---d/e.f_g", "docker.io/a__b/c---d/e.f_g:latest"],
  // The docker:// transport prefix is optional.
  ["docker://busybox", "docker.io/library/busybox:latest"],
  ["docker://127.0.0.1:5000/x:1", "127.0.0.1:5000/x:1"],
  // Without "//" it is a name and a tag, as in docker.
  ["docker:busybox", "docker.io/library/docker:busybox"],
];

const INVALID: [string, string][] = [
  ["", "it is empty"],
  ["docker://", "it is empty"],
  ["https://github.com/docker/docker", "registry host"],
  ["docker/Docker", "must be lowercase"],
  ["Uppercase:tag", "must be lowercase"],
  ["test:5000/Uppercase/lowercase:tag", "must be lowercase"],
  ["docker.io/docker/Docker", "must be lowercase"],
  ["-docker", "not a valid repository name component"],
  ["-docker/docker", "not a valid repository name component"],
  ["-docker.io/docker/docker", "registry host"],
  ["docker///docker", "empty component"],
  ["docker.io/docker///docker", "empty component"],
  ["[fc00::1]", "tag"],
  ["[fc00::1]:5000", "not a valid repository name component"],
  ["fc00::1:5000/debian", "registry host"],
  ["[fe80::1%eth0]:5000/debian", "registry host"],
  ["[2001:db8:3:4::192.0.2.33]:5000/debian", "registry host"],
  ["[2001:db8::1]:tag", "not a valid repository name component"],
  ["2001:db8::1/repo", "registry host"],
  [
    "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
    "image ID",
  ],
  [":justtag", "repository name is missing"],
  [`@${SHA256}`, "repository name is missing"],
  [`validname@invaliddigest:${"f".repeat(64)}`, "not supported"],
  ["validname@sha256:abc", "64 lowercase hex"],
  [`validname@sha256:${"F".repeat(64)}`, "64 lowercase hex"],
  ["aa/asdf$$^/aa", "not a valid repository name component"],
  [`${"a/".repeat(128)}a:tag`, "longer than 255"],
  [`repo:${"t".repeat(129)}`, "tag"],
  ["repo:.tag", "tag"],
  ["repo:-tag", "tag"],
  ["example.com:5000/", "empty component"],
  ["a b", "white space"],
  ["/tmp/busybox-oci", "write oci:/tmp/busybox-oci for an OCI layout"],
  ["./img", "write oci:./img for an OCI layout"],
  ["../img:latest", "it is a path, not a registry reference"],
];

Deno.test("references normalise as docker's do", () => {
  for (const [input, expected] of VALID) {
    assertEquals(formatReference(parseReference(input)), expected, input);
  }
});

Deno.test("invalid references are usage errors naming the input", () => {
  for (const [input, why] of INVALID) {
    const error = assertThrows(() => parseReference(input), UsageError);
    assertEquals(error.exitCode, 2);
    assertEquals(error.command, "pull");
    assertIncludes(error.message, `Invalid image reference "${input}": `);
    assertIncludes(error.message, why, input);
  }
});

Deno.test("a reference's parts: tag defaults to latest without a digest", () => {
  assertEquals(parseReference("busybox"), {
    registry: "docker.io",
    repository: "library/busybox",
    tag: "latest",
  });
  assertEquals(parseReference(`host:5000/ns/img@${SHA256}`), {
    registry: "host:5000",
    repository: "ns/img",
    digest: SHA256,
  });
  assertEquals(parseReference(`library/busybox:1.36@${SHA256}`), {
    registry: "docker.io",
    repository: "library/busybox",
    tag: "1.36",
    digest: SHA256,
  });
});

Deno.test("the manifest is asked for by digest when pinned", () => {
  assertEquals(manifestReference(parseReference("x:1")), "1");
  assertEquals(manifestReference(parseReference(`x:1@${SHA256}`)), SHA256);
});

Deno.test("digestProblem accepts sha256 and sha512 only", () => {
  assertEquals(digestProblem(SHA256), undefined);
  assertEquals(digestProblem(SHA512), undefined);
  assertIncludes(digestProblem("md5:abc") ?? "", "not supported");
  assertIncludes(digestProblem("sha256") ?? "", "ALGORITHM:HEX");
  assertIncludes(digestProblem(`sha256:../${"a".repeat(61)}`) ?? "", "hex");
});
