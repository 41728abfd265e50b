#include "tokenizer/word_cache.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace securebert::tokenizer {
namespace {

using ::testing::ElementsAre;

TEST(WordCacheTest, MissThenHitAppends) {
  WordCache cache(WordCache::Options{});
  std::vector<int32_t> ids = {99};
  EXPECT_FALSE(cache.Lookup("word", &ids));
  EXPECT_THAT(ids, ElementsAre(99));
  const int32_t word_ids[] = {1, 2, 3};
  cache.Insert("word", word_ids);
  EXPECT_TRUE(cache.Lookup("word", &ids));
  EXPECT_THAT(ids, ElementsAre(99, 1, 2, 3));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(WordCacheTest, StaysWithinCapacity) {
  WordCache::Options options;
  options.capacity_words = 8;
  WordCache cache(options);
  for (int i = 0; i < 1000; ++i) {
    const int32_t id[] = {i};
    cache.Insert("w" + std::to_string(i), id);
    ASSERT_LE(cache.size(), 8u);
  }
  // The most recent word is there; colliding words never answer for it.
  std::vector<int32_t> ids;
  EXPECT_TRUE(cache.Lookup("w999", &ids));
  EXPECT_THAT(ids, ElementsAre(999));
  for (int i = 0; i < 1000; ++i) {
    ids.clear();
    if (cache.Lookup("w" + std::to_string(i), &ids)) {
      EXPECT_THAT(ids, ElementsAre(i));
    }
  }
}

TEST(WordCacheTest, LongWordsAndLongIdListsAreNotCached) {
  WordCache cache(WordCache::Options{});
  const int32_t one[] = {1};
  const std::string longest(WordCache::kMaxWordBytes, 'x');
  cache.Insert(longest, one);
  cache.Insert(longest + "x", one);
  const int32_t many[WordCache::kMaxIds + 1] = {};
  cache.Insert("many", many);
  std::vector<int32_t> ids;
  EXPECT_TRUE(cache.Lookup(longest, &ids));
  EXPECT_FALSE(cache.Lookup(longest + "x", &ids));
  EXPECT_FALSE(cache.Lookup("many", &ids));
  EXPECT_FALSE(cache.Lookup("", &ids));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(WordCacheTest, WordsDifferingInPaddingStayApart) {
  WordCache cache(WordCache::Options{});
  const int32_t a[] = {1};
  const int32_t b[] = {2};
  cache.Insert(std::string("a\0", 2), a);
  cache.Insert("a", b);
  std::vector<int32_t> ids;
  EXPECT_TRUE(cache.Lookup("a", &ids));
  EXPECT_THAT(ids, ElementsAre(2));
}

TEST(WordCacheTest, ConcurrentReadersAndWritersSeeConsistentEntries) {
  WordCache::Options options;
  options.capacity_words = 64;  // small: entries are overwritten while others read
  WordCache cache(options);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&cache, t] {
      std::vector<int32_t> ids;
      for (int i = 0; i < 5000; ++i) {
        const int key = (i * 7 + t) % 300;
        const std::string word = "k" + std::to_string(key);
        ids.clear();
        if (cache.Lookup(word, &ids)) {
          ASSERT_THAT(ids, ElementsAre(key, -key));
        } else {
          const int32_t value[] = {key, -key};
          cache.Insert(word, value);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_LE(cache.size(), 64u);
}

}  // namespace
}  // namespace securebert::tokenizer
