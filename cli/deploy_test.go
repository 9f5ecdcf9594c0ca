package cli

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/goccy/go-yaml"
)

// k8sObject is what the sweep's manifests use of a Kubernetes object.
type k8sObject struct {
	APIVersion string                `yaml:"apiVersion"`
	Kind       string                `yaml:"kind"`
	Metadata   struct{ Name string } `yaml:"metadata"`
	Data       map[string]string     `yaml:"data"`
	Spec       struct {
		CompletionMode string `yaml:"completionMode"`
		Completions    int    `yaml:"completions"`
		Parallelism    int    `yaml:"parallelism"`
		Template       struct {
			Spec struct {
				RestartPolicy string `yaml:"restartPolicy"`
				Containers    []struct {
					Args         []string `yaml:"args"`
					VolumeMounts []struct {
						Name      string `yaml:"name"`
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []struct {
					Name      string `yaml:"name"`
					ConfigMap *struct {
						Name string `yaml:"name"`
					} `yaml:"configMap"`
					PersistentVolumeClaim *struct {
						ClaimName string `yaml:"claimName"`
					} `yaml:"persistentVolumeClaim"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

func readK8s(t *testing.T, path string) []k8sObject {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var out []k8sObject
	for {
		var o k8sObject
		if err := dec.Decode(&o); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, o)
	}
}

// flagValue is the value after name in args ("" when absent).
func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// TestDeploy_KubernetesSweepJob parses deploy/kubernetes's manifests: an
// Indexed Job whose completions, parallelism and --shards agree, whose
// ConfigMap holds the example strategy, and a merge Job on the same
// volume. It then runs each pod's command as the pod would (the index in
// JOB_COMPLETION_INDEX, the mounts as folders, two weeks of data to keep
// it short) and the merge Job's, which must give the whole sweep.
func TestDeploy_KubernetesSweepJob(t *testing.T) {
	objs := readK8s(t, "../deploy/kubernetes/sweep-job.yaml")
	merge := readK8s(t, "../deploy/kubernetes/sweep-merge-job.yaml")
	var job, cm *k8sObject
	for i := range objs {
		switch objs[i].Kind {
		case "Job":
			job = &objs[i]
		case "ConfigMap":
			cm = &objs[i]
		}
	}
	if job == nil || cm == nil || len(merge) != 1 || merge[0].Kind != "Job" {
		t.Fatalf("want a ConfigMap and a Job in sweep-job.yaml and a Job in sweep-merge-job.yaml; got %d and %d objects", len(objs), len(merge))
	}
	s := job.Spec
	if job.APIVersion != "batch/v1" || s.CompletionMode != "Indexed" || s.Template.Spec.RestartPolicy != "Never" {
		t.Errorf("job: %s, completionMode %q, restartPolicy %q; want batch/v1, Indexed, Never", job.APIVersion, s.CompletionMode, s.Template.Spec.RestartPolicy)
	}
	if len(s.Template.Spec.Containers) != 1 {
		t.Fatalf("job has %d containers, want 1", len(s.Template.Spec.Containers))
	}
	args := s.Template.Spec.Containers[0].Args
	n, err := strconv.Atoi(flagValue(args, "--shards"))
	if err != nil || n != s.Completions || n != s.Parallelism || n < 2 {
		t.Fatalf("--shards %q, completions %d, parallelism %d: want one count > 1", flagValue(args, "--shards"), s.Completions, s.Parallelism)
	}
	example, err := os.ReadFile(exampleStrategy)
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["strategy.yaml"] != string(example) {
		t.Error("the ConfigMap's strategy.yaml is not examples/strategies/lst-lrt-balanced.yaml")
	}
	// The mounts, as folders.
	tmp := t.TempDir()
	mounts := map[string]string{}
	for _, m := range s.Template.Spec.Containers[0].VolumeMounts {
		mounts[m.MountPath] = filepath.Join(tmp, m.Name)
	}
	for _, v := range s.Template.Spec.Volumes {
		if v.ConfigMap != nil {
			if v.ConfigMap.Name != cm.Metadata.Name {
				t.Errorf("volume %s mounts ConfigMap %s, want %s", v.Name, v.ConfigMap.Name, cm.Metadata.Name)
			}
			if err := os.MkdirAll(filepath.Join(tmp, v.Name), 0o755); err != nil {
				t.Fatal(err)
			}
			for k, body := range cm.Data {
				if err := os.WriteFile(filepath.Join(tmp, v.Name, k), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	local := func(args []string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			out[i] = a
			for mp, dir := range mounts {
				if a == mp || strings.HasPrefix(a, mp+"/") {
					out[i] = dir + strings.TrimPrefix(a, mp)
				}
			}
		}
		return out
	}
	for i := 0; i < n; i++ {
		old := getenv
		getenv = func(k string) string {
			if k == EnvJobCompletionIndex {
				return strconv.Itoa(i)
			}
			return ""
		}
		code, _, stderr := cli(t, append(local(args), shortRange...)...)
		getenv = old
		if code != 0 {
			t.Fatalf("pod %d: exit %d: %s", i, code, stderr)
		}
	}
	margs := merge[0].Spec.Template.Spec.Containers[0].Args
	if merge[0].Spec.Template.Spec.Volumes[0].PersistentVolumeClaim == nil ||
		merge[0].Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "yieldvault-runs" {
		t.Error("the merge job does not mount the runs volume")
	}
	code, stdout, stderr := cli(t, local(margs)...)
	if code != 0 {
		t.Fatalf("merge job: exit %d: %s", code, stderr)
	}
	checkSweepCSV(t, lastLine(stdout), 8)
}

// checkSweepCSV checks that path is a sweep.csv of points rows.
func checkSweepCSV(t *testing.T, path string, points int) {
	t.Helper()
	if filepath.Base(path) != "sweep.csv" {
		t.Fatalf("last line %q, want sweep.csv's path", path)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != points+1 {
		t.Errorf("sweep.csv has %d rows, want a header and %d points", len(rows), points)
	}
}

// TestDeploy_SlurmArray checks deploy/slurm's scripts with bash -n, that
// the array's range and SHARDS agree, then runs each array task as Slurm
// would (SLURM_ARRAY_TASK_ID set, yieldvault on the PATH), and the merge
// script after them.
func TestDeploy_SlurmArray(t *testing.T) {
	scripts := []string{"../deploy/slurm/sweep.sbatch", "../deploy/slurm/merge.sbatch"}
	for _, s := range scripts {
		if out, err := exec.Command("bash", "-n", s).CombinedOutput(); err != nil {
			t.Fatalf("bash -n %s: %v\n%s", s, err, out)
		}
	}
	body, err := os.ReadFile(scripts[0])
	if err != nil {
		t.Fatal(err)
	}
	arr := regexp.MustCompile(`(?m)^#SBATCH --array=0-(\d+)$`).FindSubmatch(body)
	sh := regexp.MustCompile(`(?m)^SHARDS=(\d+)$`).FindSubmatch(body)
	if arr == nil || sh == nil {
		t.Fatalf("%s: no #SBATCH --array=0-N or SHARDS=N", scripts[0])
	}
	last, _ := strconv.Atoi(string(arr[1]))
	n, _ := strconv.Atoi(string(sh[1]))
	if n != last+1 || n < 2 {
		t.Fatalf("--array=0-%d runs %d tasks, SHARDS=%d", last, last+1, n)
	}
	// yieldvault on the PATH: the test binary running the CLI.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "yieldvault"), []byte("#!/bin/sh\nexec \"$YV_TEST_EXE\" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	strategy, err := filepath.Abs(exampleStrategy)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	env := append(os.Environ(), envRunCLI+"=1", "YV_TEST_EXE="+exe, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"YIELDVAULT_OUT="+out, "YIELDVAULT_STRATEGY="+strategy, "YIELDVAULT_SWEEP_FLAGS="+strings.Join(shortRange, " "))
	var wg sync.WaitGroup
	errs := make([]string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := exec.Command("bash", scripts[0])
			c.Env = append(slices.Clip(env), EnvSlurmArrayTaskID+"="+strconv.Itoa(i), "SLURM_CPUS_PER_TASK=1")
			if b, err := c.CombinedOutput(); err != nil {
				errs[i] = err.Error() + ": " + string(b)
			}
		}()
	}
	wg.Wait()
	for i, e := range errs {
		if e != "" {
			t.Fatalf("array task %d: %s", i, e)
		}
	}
	c := exec.Command("bash", scripts[1])
	c.Env = env
	var stdout bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stdout
	if err := c.Run(); err != nil {
		t.Fatalf("merge.sbatch: %v\n%s", err, stdout.String())
	}
	checkSweepCSV(t, lastLine(stdout.String()), 8)
}
