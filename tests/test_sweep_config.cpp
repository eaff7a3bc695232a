// Sweep files: parsing, overrides, errors with file and line, grid expansion, job ids.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "framework/sweep/config.h"
#include "framework/sweep/expand.h"
#include "framework/sweep/suggest.h"
#include "framework/util/error.h"
#include "framework/util/sha256.h"

namespace kprune::sweep {
namespace {

// A prune-like kind for expansion tests; the runner is never called here.
JobRegistry test_registry() {
  JobRegistry registry;
  registry.add({"probe",
                {"model", "task", "checkpoint", "seed", "sample_size", "pruner", "pruner.*",
                 "flops_reduction", "lr"},
                {"checkpoint", "task", "seed", "sample_size"},
                nullptr,
                {},
                {}});
  registry.add({"train", {"model", "task", "epochs"}, {}, nullptr, {}, {}});
  return registry;
}

std::vector<JobSpec> expand_text(const std::string& text,
                                 const std::vector<std::string>& overrides = {}) {
  return expand_jobs(parse_config(text, "test.toml", overrides), test_registry());
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "<no error>";
}

std::multiset<std::string> canonical_set(const std::vector<JobSpec>& jobs) {
  std::multiset<std::string> out;
  for (const JobSpec& job : jobs) out.insert(job.params.canonical());
  return out;
}

const char* kBase = R"(
[models.m]
checkpoint = "ckpt"

[grids.main]
kind = "probe"
model = "m"
task = ["a", "b"]
flops_reduction = [0.4, 0.6]
)";

TEST(SweepConfig, CartesianProductOfAxes) {
  const auto jobs = expand_text(kBase);
  EXPECT_EQ(canonical_set(jobs),
            (std::multiset<std::string>{
                "checkpoint=ckpt flops_reduction=0.4 kind=probe model=m task=a",
                "checkpoint=ckpt flops_reduction=0.6 kind=probe model=m task=a",
                "checkpoint=ckpt flops_reduction=0.4 kind=probe model=m task=b",
                "checkpoint=ckpt flops_reduction=0.6 kind=probe model=m task=b",
            }));
}

TEST(SweepConfig, SeedsAndSampleSizeFromSweepTable) {
  const auto jobs =
      expand_text(std::string("[sweep]\nrepetitions = 3\nsample_size = 64\n") + kBase);
  ASSERT_EQ(jobs.size(), 12u);
  std::set<std::string> seeds;
  for (const JobSpec& job : jobs) {
    seeds.insert(job.params.get_string("seed", ""));
    EXPECT_EQ(job.params.get_string("sample_size", ""), "64");
    EXPECT_EQ(job.cache_key,
              fmt::format("checkpoint=ckpt task={} seed={} sample_size=64",
                          job.params.get_string("task", ""), job.params.get_string("seed", "")));
  }
  EXPECT_EQ(seeds, (std::set<std::string>{"0", "1", "2"}));
}

TEST(SweepConfig, ZippedAxesVaryTogether) {
  const auto jobs = expand_text(std::string(kBase) + R"(
[[grids.main.zip]]
lr = [1, 2, 3]
seed = [10, 20, 30]
)");
  ASSERT_EQ(jobs.size(), 12u);  // 2 tasks x 2 ratios x 3 zipped pairs
  for (const JobSpec& job : jobs) {
    EXPECT_EQ(job.params.get_int("seed", 0), 10 * job.params.get_int("lr", 0));
  }
}

TEST(SweepConfig, ExcludeDropsAndIncludeAdds) {
  const auto jobs = expand_text(std::string(kBase) + R"(
[[grids.main.exclude]]
task = "b"
flops_reduction = [0.6]

[[grids.main.include]]
task = "c"
flops_reduction = 0.9
)");
  EXPECT_EQ(canonical_set(jobs),
            (std::multiset<std::string>{
                "checkpoint=ckpt flops_reduction=0.4 kind=probe model=m task=a",
                "checkpoint=ckpt flops_reduction=0.6 kind=probe model=m task=a",
                "checkpoint=ckpt flops_reduction=0.4 kind=probe model=m task=b",
                "checkpoint=ckpt flops_reduction=0.9 kind=probe model=m task=c",
            }));
}

TEST(SweepConfig, PrunerParameterGridsApplyToTheirPrunerOnly) {
  const auto jobs = expand_text(R"(
[pruners.kprune]
lam_pred = [0, 1]
mode = ["ref", "clean"]
mu = 64

[grids.main]
kind = "probe"
task = "a"
pruner = ["kprune", "random"]
)");
  ASSERT_EQ(jobs.size(), 5u);  // 2 x 2 kprune variants + 1 random
  int kprune_jobs = 0;
  for (const JobSpec& job : jobs) {
    if (job.params.get_string("pruner", "") == "kprune") {
      ++kprune_jobs;
      EXPECT_EQ(job.params.get_string("pruner.mu", ""), "64");
      EXPECT_TRUE(job.params.has("pruner.lam_pred") && job.params.has("pruner.mode"));
    } else {
      EXPECT_FALSE(job.params.has("pruner.mu"));
    }
  }
  EXPECT_EQ(kprune_jobs, 4);
}

TEST(SweepConfig, OverridesReplaceAnyValue) {
  const char* text = R"(
[sweep]
device = "cuda"
output = "a.h5"

[pruners.kprune]
mu = 64

[grids.main]
kind = "probe"
task = ["a", "b"]
pruner = "kprune"
)";
  const SweepConfig config = parse_config(
      text, "test.toml",
      {"sweep.device=cpu", "pruners.kprune.mu=[32, 128]", "grids.main.task=c", "sweep.retries=2"});
  EXPECT_EQ(config.sweep.device, "cpu");
  EXPECT_EQ(config.sweep.retries, 2);
  EXPECT_EQ(config.sweep.output, "a.h5");
  EXPECT_EQ(config.sweep.artifacts, "a.artifacts");
  const auto jobs = expand_jobs(config, test_registry());
  EXPECT_EQ(canonical_set(jobs),
            (std::multiset<std::string>{"kind=probe pruner=kprune pruner.mu=128 task=c",
                                        "kind=probe pruner=kprune pruner.mu=32 task=c"}));
  EXPECT_NE(config.text.find("# sweep.device=cpu"), std::string::npos);
}

TEST(SweepConfig, OverrideOfAnUnknownKeyNamesTheCommandLine) {
  const std::string message =
      error_of([] { parse_config(kBase, "test.toml", {"sweep.devcie=cpu"}); });
  EXPECT_NE(message.find("command line 'sweep.devcie=cpu'"), std::string::npos) << message;
  EXPECT_NE(message.find("did you mean 'device'"), std::string::npos) << message;
}

TEST(SweepConfig, JobIdIsTheHashOfCanonicalParamsAndIgnoresKeyOrder) {
  const auto forward = expand_text(R"(
[grids.main]
kind = "probe"
task = "a"
flops_reduction = 0.5
)");
  const auto backward = expand_text(R"(
[grids.main]
flops_reduction = 0.50
task = "a"
kind = "probe"
)");
  ASSERT_EQ(forward.size(), 1u);
  ASSERT_EQ(backward.size(), 1u);
  EXPECT_EQ(forward[0].id, backward[0].id);
  EXPECT_EQ(forward[0].id, sha256_hex("flops_reduction=0.5 kind=probe task=a").substr(0, 16));
  // Stable across runs: a fixed value, not just equal within this process.
  EXPECT_EQ(forward[0].id, job_id(Params::parse({"task=a", "kind=probe", "flops_reduction=0.5"})));
}

TEST(SweepConfig, RecipeModelsAddAJobTheGridDependsOn) {
  const auto jobs = expand_text(R"(
[sweep]
output = "out/r.h5"

[models.tiny]
recipe = { kind = "train", epochs = 2 }

[grids.main]
kind = "probe"
model = "tiny"
task = "a"
flops_reduction = [0.4, 0.6]
)");
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].params.canonical(), "epochs=2 kind=train model=tiny task=a");
  for (size_t i = 1; i < jobs.size(); ++i) {
    EXPECT_EQ(jobs[i].depends_on, std::vector<std::string>{jobs[0].id});
    EXPECT_EQ(jobs[i].params.get_string("checkpoint", ""), "out/r.artifacts/" + jobs[0].id);
  }
}

// A kind's prerequisites: a job that several jobs share (e.g. one training for every FLOPs
// ratio) is added once, before them, and they wait for it; it inherits their checkpoint's
// dependencies.
TEST(SweepConfig, PrerequisitesAreSharedJobsTheirDependentsWaitFor) {
  JobRegistry registry = test_registry();
  JobKind probe = registry.get("probe");
  probe.prerequisites = [](const Params& params) {
    std::vector<std::pair<std::string, Params>> needed;
    if (params.get_string("pruner", "") != "trained") return needed;
    Params shared;
    shared.set("task", params.get_string("task", ""));
    shared.set("epochs", "3");
    needed.emplace_back("train", shared);
    return needed;
  };
  JobRegistry with_prerequisites;
  with_prerequisites.add(probe);
  with_prerequisites.add(registry.get("train"));
  const auto jobs = expand_jobs(parse_config(R"(
[models.m]
recipe = { kind = "train", epochs = 1 }

[grids.main]
kind = "probe"
model = "m"
task = "a"
pruner = ["trained", "free"]
flops_reduction = [0.4, 0.6]
)",
                                             "test.toml", {}),
                                with_prerequisites);
  ASSERT_EQ(jobs.size(), 6u);  // the recipe, the shared training, four probes
  EXPECT_EQ(jobs[0].params.canonical(), "epochs=1 kind=train model=m task=a");
  EXPECT_EQ(jobs[1].params.canonical(), "epochs=3 kind=train task=a");
  EXPECT_EQ(jobs[1].depends_on, (std::vector<std::string>{jobs[0].id}));
  for (size_t i = 2; i < jobs.size(); ++i) {
    const bool trained = jobs[i].params.get_string("pruner", "") == "trained";
    EXPECT_EQ(jobs[i].depends_on, trained ? (std::vector<std::string>{jobs[0].id, jobs[1].id})
                                          : (std::vector<std::string>{jobs[0].id}))
        << jobs[i].params.canonical();
  }
}

TEST(SweepConfig, UnknownKeysNameFileLineAndSuggestion) {
  const char* text = "[sweep]\nname = \"x\"\noutptu = \"a.h5\"\n\n[grids.main]\nkind = \"probe\"\n";
  const std::string message = error_of([&] { parse_config(text, "cfg/s.toml"); });
  EXPECT_NE(message.find("cfg/s.toml:3"), std::string::npos) << message;
  EXPECT_NE(message.find("'outptu'"), std::string::npos) << message;
  EXPECT_NE(message.find("did you mean 'output'"), std::string::npos) << message;
}

TEST(SweepConfig, UnknownGridParameterNamesLineAndSuggestion) {
  const char* text = "[grids.main]\nkind = \"probe\"\ntask = \"a\"\nflops_reduciton = [0.5]\n";
  const std::string message =
      error_of([&] { expand_jobs(parse_config(text, "g.toml"), test_registry()); });
  EXPECT_NE(message.find("g.toml:4"), std::string::npos) << message;
  EXPECT_NE(message.find("did you mean 'flops_reduction'"), std::string::npos) << message;
}

TEST(SweepConfig, OtherErrorsNameFileAndLine) {
  EXPECT_NE(error_of([] {
              parse_config("[grids.main]\nkind = \"probe\"\ntask = [\n", "bad.toml");
            }).find("bad.toml:"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              expand_text("[grids.main]\nkind = \"prboe\"\n");
            }).find("did you mean 'probe'"),
            std::string::npos);
  const std::string zip = error_of([] {
    parse_config("[grids.g]\nkind = \"probe\"\n[[grids.g.zip]]\nlr = [1, 2]\nseed = [1]\n",
                 "z.toml");
  });
  EXPECT_NE(zip.find("z.toml:5"), std::string::npos) << zip;
  const std::string twice = error_of([] {
    parse_config("[grids.g]\nkind = \"probe\"\nlr = [1, 2]\n[[grids.g.zip]]\nlr = [1, 2]\n",
                 "t.toml");
  });
  EXPECT_NE(twice.find("t.toml:5: 'lr' is both a grid axis (t.toml:3)"), std::string::npos)
      << twice;
  const std::string model =
      error_of([] { expand_text("[grids.g]\nkind = \"probe\"\nmodel = \"nope\"\n"); });
  EXPECT_NE(model.find("model 'nope' is not declared"), std::string::npos) << model;
}

TEST(SweepConfig, SelectKeepsMatchesAndTheirDependencies) {
  const auto jobs = expand_text(R"(
[models.tiny]
recipe = { kind = "train" }

[grids.main]
kind = "probe"
model = "tiny"
task = "a"
flops_reduction = [0.4, 0.6]
)");
  const auto selected = select_jobs(jobs, {}, {"flops_reduction=0.6"});
  ASSERT_EQ(selected.size(), 2u);
  EXPECT_EQ(selected[0].kind, "train");
  EXPECT_EQ(selected[1].params.get_string("flops_reduction", ""), "0.6");
  EXPECT_EQ(select_jobs(jobs, {jobs[0].id}, {}).size(), 1u);
  EXPECT_NE(error_of([&] { select_jobs(jobs, {"0123456789abcdef"}, {}); }).find("no job"),
            std::string::npos);
}

TEST(SweepSuggest, EditDistanceAndClosestCandidate) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3);
  EXPECT_EQ(edit_distance("", "abc"), 3);
  EXPECT_EQ(did_you_mean("outptu", {"output", "name"}), " (did you mean 'output'?)");
  EXPECT_EQ(did_you_mean("zzzzzz", {"output", "name"}), "");
}

}  // namespace
}  // namespace kprune::sweep
