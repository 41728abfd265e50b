// TestPki: certificates made at test time with Debian's openssl, for the
// TLS and mutual-TLS tests: two independent CAs, a server certificate for
// 127.0.0.1 and localhost signed by the first, a client certificate from
// each, and a key that belongs to none of them.
//
// Files live in a fresh directory under $TMPDIR (or /tmp).
// Thread safety: construct on one thread; the paths are constant after.
#ifndef SECUREBERT_TESTS_TESTING_TEST_PKI_H_
#define SECUREBERT_TESTS_TESTING_TEST_PKI_H_

#include <string>

namespace securebert::testing {

class TestPki {
 public:
  // Makes every file; `ok()` says whether openssl succeeded, and `error()`
  // holds its output when it did not.
  TestPki();

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  // The file `name` in the directory, e.g. Path("ca1.pem").
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  // Reads a file whole.
  std::string Read(const std::string& name) const;

  // ca1.pem, ca2.pem: the CAs. server.pem/server.key: signed by ca1, for
  // 127.0.0.1 and localhost. client1.pem/.key: signed by ca1; client2: by
  // ca2. stray.key: a key of no certificate.

 private:
  bool Run(const std::string& command);

  std::string dir_;
  std::string error_;
};

}  // namespace securebert::testing

#endif  // SECUREBERT_TESTS_TESTING_TEST_PKI_H_
