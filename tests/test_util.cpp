#include <gtest/gtest.h>

#include "framework/util/error.h"
#include "framework/util/params.h"
#include "framework/util/sha256.h"

namespace kprune {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Params, CanonicalFormIsSortedAndOrderIndependent) {
  const Params a = Params::parse({"mu=64", "lam_rep=2.5e-4", "mode=ref"});
  const Params b = Params::parse({"mode=ref", "mu=64", "lam_rep=2.5e-4"});
  EXPECT_EQ(a.canonical(), "lam_rep=2.5e-4 mode=ref mu=64");
  EXPECT_EQ(a.canonical(), b.canonical());
}

TEST(Params, TypedGettersAndErrors) {
  const Params p = Params::parse({"x=0.25", "n=7", "flag=false", "bad=abc"});
  EXPECT_DOUBLE_EQ(p.get_double("x", 0), 0.25);
  EXPECT_EQ(p.get_int("n", 0), 7);
  EXPECT_FALSE(p.get_bool("flag", true));
  EXPECT_EQ(p.get_int("absent", 3), 3);
  EXPECT_THROW(p.get_double("bad", 0), Error);
  EXPECT_THROW(p.get_int("x", 0), Error);
  EXPECT_THROW(Params::parse({"novalue"}), Error);
  try {
    p.check_keys({"x", "n", "flag"}, "pruner kprune");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'bad'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("accepted: x, n, flag"), std::string::npos);
  }
}

TEST(Params, MergedOverrides) {
  const Params base = Params::parse({"a=1", "b=2"});
  EXPECT_EQ(base.merged(Params::parse({"b=3", "c=4"})).canonical(), "a=1 b=3 c=4");
}

}  // namespace kprune
