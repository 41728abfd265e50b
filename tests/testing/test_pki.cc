#include "tests/testing/test_pki.h"

#include <stdlib.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace securebert::testing {
namespace {

// EC P-256: fast to generate, and what most deployments use now.
constexpr char kKeyOptions[] = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

}  // namespace

bool TestPki::Run(const std::string& command) {
  const std::string full = absl::StrCat("cd '", dir_, "' && ", command, " 2>&1");
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) {
    error_ = "popen failed: " + command;
    return false;
  }
  std::string output;
  char buffer[1024];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  if (pclose(pipe) != 0) {
    error_ = absl::StrCat(command, ":\n", output);
    return false;
  }
  return true;
}

TestPki::TestPki() {
  const char* tmp = getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/securebert-pki-XXXXXX");
  char* made = mkdtemp(pattern.data());
  if (made == nullptr) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = made;
  const std::string openssl = "/usr/bin/openssl";
  for (const char* ca : {"ca1", "ca2"}) {
    if (!Run(absl::StrCat(openssl, " req -x509 ", kKeyOptions, " -keyout ", ca, ".key -out ", ca,
                          ".pem -days 2 -subj '/CN=securebert test ", ca, "'"))) {
      return;
    }
  }
  struct Leaf {
    const char* name;
    const char* ca;
    const char* extensions;
  };
  for (const Leaf& leaf :
       {Leaf{"server", "ca1",
             "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"},
        Leaf{"client1", "ca1", "extendedKeyUsage=clientAuth"},
        Leaf{"client2", "ca2", "extendedKeyUsage=clientAuth"}}) {
    std::ofstream(Path(std::string(leaf.name) + ".ext")) << leaf.extensions << "\n";
    if (!Run(absl::StrCat(openssl, " req ", kKeyOptions, " -keyout ", leaf.name, ".key -out ",
                          leaf.name, ".csr -subj '/CN=", leaf.name, "'")) ||
        !Run(absl::StrCat(openssl, " x509 -req -in ", leaf.name, ".csr -CA ", leaf.ca,
                          ".pem -CAkey ", leaf.ca, ".key -CAcreateserial -days 2 -out ", leaf.name,
                          ".pem -extfile ", leaf.name, ".ext"))) {
      return;
    }
  }
  Run(absl::StrCat(openssl, " genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out ",
                   "stray.key"));
}

std::string TestPki::Read(const std::string& name) const {
  std::ifstream in(Path(name));
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace securebert::testing
