//go:build !windows

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact/demo"
)

// The README runs: TestReadmeRuns runs every command of every ```sh block
// of README.md, in order, as a newcomer would type them, and fails when
// one exits non-zero or prints an error. The rules, the same for every
// block:
//
//   - The commands run one at a time in one sh session (variables set by
//     one are seen by the next, across blocks), in a fresh scratch
//     directory whose data directory, ./cyberpact-data, is therefore new.
//     ../shared beside it is the checkout's ../shared when that exists.
//     A command is its lines up to the first point where sh finds it
//     complete (continuations, quotes, here-documents and loops stay one
//     command). Standard input is empty.
//   - `go test ./...` is the command that runs this test: it is checked to
//     be the one .ci/run runs, and not run again inside itself.
//   - cyberpact is the binary the test builds once: it is first on PATH,
//     `go build -o NAME ./cmd/cyberpact` copies it to NAME, and
//     `go run ./cmd/cyberpact` runs it.
//   - A command that runs `cyberpact serve` is a server: the test starts it
//     on 127.0.0.1 on a free port (appending --addr), waits until it
//     listens, and stops it at the end, when it must exit 0. Later
//     commands reach it where they name localhost:8080 or 127.0.0.1:8080,
//     and the placeholder cpk_... becomes the key it printed for the user
//     the same line names.
//   - Printing an error is a failure even with exit 0: a JSON "error"
//     member, a TAXII error's 4xx/5xx http_status, "error:" or
//     level=ERROR, or a panic.
//
// A line that is only illustrative belongs outside a ```sh block (in
// ```console or ```text); ```bash, ```shell and ```zsh blocks are refused,
// since their commands would escape the test.

// readmeCommand is one command of the README: its text and where it is.
type readmeCommand struct {
	text string
	line int // of README.md, 1-based
}

// readmeCommands extracts the commands of every ```sh block of a README, in
// order. complete reports whether sh would take text as a whole command.
func readmeCommands(readme string, complete func(text string) bool) ([]readmeCommand, error) {
	var out []readmeCommand
	lines := strings.Split(readme, "\n")
	inBlock := false
	var cur []string
	start := 0
	for i, l := range lines {
		fence := strings.TrimSpace(l)
		if !inBlock {
			if !strings.HasPrefix(fence, "```") {
				continue
			}
			switch lang := strings.Fields(strings.TrimPrefix(fence, "```") + " x")[0]; lang {
			case "sh":
				inBlock = true
			case "bash", "shell", "zsh":
				return nil, fmt.Errorf("README.md:%d: a ```%s block: commands to run go in ```sh blocks (POSIX sh, which the README test runs), illustrations in ```console or ```text", i+1, lang)
			}
			continue
		}
		if strings.HasPrefix(fence, "```") {
			if len(cur) > 0 {
				return nil, fmt.Errorf("README.md:%d: the command that starts here does not end before its block does:\n%s", start, strings.Join(cur, "\n"))
			}
			inBlock = false
			continue
		}
		if len(cur) == 0 {
			if t := strings.TrimSpace(l); t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			start = i + 1
		}
		cur = append(cur, l)
		text := strings.Join(cur, "\n")
		if strings.HasSuffix(l, `\`) || openHeredoc(cur) || !complete(text) {
			continue
		}
		out = append(out, readmeCommand{text: text, line: start})
		cur = nil
	}
	if inBlock {
		return nil, fmt.Errorf("README.md: a ```sh block is not closed")
	}
	return out, nil
}

// heredocOp finds a here-document's operator and delimiter.
var heredocOp = regexp.MustCompile(`<<(-?)\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)(['"]?)`)

// openHeredoc reports whether lines start a here-document that they do not
// end: sh -n accepts one cut short.
func openHeredoc(lines []string) bool {
	for i, l := range lines {
		for _, m := range heredocOp.FindAllStringSubmatch(stripComment(l), -1) {
			closed := false
			for _, body := range lines[i+1:] {
				if m[1] == "-" {
					body = strings.TrimLeft(body, "\t")
				}
				if body == m[3] {
					closed = true
					break
				}
			}
			if !closed {
				return true
			}
		}
	}
	return false
}

// stripComment returns a command without its shell comments: a # that
// starts a word outside quotes, up to the end of its line.
func stripComment(s string) string {
	var b strings.Builder
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == 0 && c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t' || s[i-1] == '\n'):
			for i < len(s) && s[i] != '\n' {
				i++
			}
			if i < len(s) {
				b.WriteByte('\n')
			}
			continue
		case c == '\\' && quote != '\'' && i+1 < len(s):
			b.WriteByte(c)
			i++
			c = s[i]
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
		case c == quote:
			quote = 0
		}
		b.WriteByte(c)
	}
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

var (
	goBuildLine = regexp.MustCompile(`^go build -o (\S+) \./cmd/cyberpact$`)
	goRunPrefix = regexp.MustCompile(`(^|[\s;&|(])go run \./cmd/cyberpact\b`)
	addrFlag    = regexp.MustCompile(`--addr[= ](\S+)`)
	serveLine   = regexp.MustCompile(`^(\w+=\S*\s+)*(\S*/)?cyberpact\s+serve(\s|$)`)
	placeholder = regexp.MustCompile(`cpk_\.\.\.`)
	userName    = regexp.MustCompile(`[A-Za-z0-9._-]+@[A-Za-z0-9.-]+[A-Za-z0-9]`)
	printedKey  = regexp.MustCompile(`(?m)^\s+(\S+@\S+)\s+(cpk_\S+)`)
	listening   = regexp.MustCompile(`listening on http://(\S+)`)
	printsError = regexp.MustCompile(`(?im)"error"\s*:|"http_status"\s*:\s*"?[45]\d\d|(^|\s)error:|level=ERROR|^panic:`)
)

// readmeServer is a server the README started.
type readmeServer struct {
	cmd    *exec.Cmd
	addr   string
	keys   map[string]string // user -> key, as printed
	stderr *bytes.Buffer
	done   chan error
}

// startServer starts command (a cyberpact serve) in dir on a free port of
// 127.0.0.1 and waits until it listens.
func startServer(t *testing.T, dir string, env []string, command string) *readmeServer {
	t.Helper()
	command = strings.TrimSuffix(strings.TrimSpace(command), "&")
	c := exec.Command("sh", "-c", "exec "+command+" --addr 127.0.0.1:0")
	c.Dir, c.Env = dir, env
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &readmeServer{cmd: c, keys: map[string]string{}, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	c.Stderr = &lockedWriter{w: s.stderr}
	if err := c.Start(); err != nil {
		t.Fatalf("starting %s: %v", command, err)
	}
	ready := make(chan string, 1)
	var printed strings.Builder
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			printed.WriteString(sc.Text() + "\n")
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				for _, k := range printedKey.FindAllStringSubmatch(printed.String(), -1) {
					s.keys[k[1]] = k[2]
				}
				ready <- m[1]
				break
			}
		}
		io.Copy(io.Discard, stdout)
		s.done <- c.Wait()
	}()
	select {
	case s.addr = <-ready:
		return s
	case err := <-s.done:
		t.Fatalf("%s exited before listening (%v):\n%s\n%s", command, err, printed.String(), s.stderr)
	case <-time.After(60 * time.Second):
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		t.Fatalf("%s did not listen within 60 s:\n%s", command, printed.String())
	}
	return nil
}

// stop ends the server as Ctrl-C would and reports how it ended.
func (s *readmeServer) stop() error {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.done:
		if err != nil {
			return fmt.Errorf("exit: %v", err)
		}
		if m := printsError.FindString(s.stderr.String()); m != "" {
			return fmt.Errorf("logged an error (%q)", m)
		}
		return nil
	case <-time.After(30 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		return fmt.Errorf("did not stop within 30 s of SIGINT")
	}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// readmeShell is the sh session the README's commands run in.
type readmeShell struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	files string // where each command's output goes
	n     int
}

// run runs one command and returns its exit code and output.
func (sh *readmeShell) run(text string, timeout time.Duration) (code int, stdout, stderr string, err error) {
	sh.n++
	o, e, rc := filepath.Join(sh.files, "out"), filepath.Join(sh.files, "err"), filepath.Join(sh.files, "rc")
	marker := fmt.Sprintf("@@readme-command-%d-done", sh.n)
	script := fmt.Sprintf("{ %s\n} >'%s' 2>'%s' </dev/null; echo $? >'%s'; echo %s\n", text, o, e, rc, marker)
	if _, err := io.WriteString(sh.in, script); err != nil {
		return 0, "", "", err
	}
	got := make(chan error, 1)
	go func() {
		for {
			l, err := sh.out.ReadString('\n')
			if err != nil {
				got <- fmt.Errorf("the shell ended: %v", err)
				return
			}
			if strings.TrimSpace(l) == marker {
				got <- nil
				return
			}
		}
	}()
	select {
	case err := <-got:
		if err != nil {
			return 0, "", "", err
		}
	case <-time.After(timeout):
		return 0, "", "", fmt.Errorf("did not finish within %s", timeout)
	}
	ob, _ := os.ReadFile(o)
	eb, _ := os.ReadFile(e)
	rb, _ := os.ReadFile(rc)
	fmt.Sscan(string(rb), &code)
	return code, string(ob), string(eb), nil
}

func TestReadmeRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the README's commands take about half a minute")
	}
	for _, tool := range []string{"sh", "curl", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the README's commands need it", tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	complete := func(text string) bool { return exec.Command("sh", "-n", "-c", text).Run() == nil }
	commands, err := readmeCommands(string(readme), complete)
	if err != nil {
		t.Fatal(err)
	}
	if len(commands) == 0 {
		t.Fatal("README.md has no ```sh commands")
	}
	bin := buildCyberpact(t)

	root := t.TempDir()
	work := filepath.Join(root, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	if shared, err := filepath.Abs("../../../shared"); err == nil {
		if _, err := os.Stat(shared); err == nil {
			if err := os.Symlink(shared, filepath.Join(root, "shared")); err != nil {
				t.Fatal(err)
			}
		}
	}
	home := filepath.Join(root, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + home, "LC_ALL=C"}
	for _, v := range []string{"TMPDIR", "GOCACHE", "GOPATH", "GOROOT"} {
		if x := os.Getenv(v); x != "" {
			env = append(env, v+"="+x)
		}
	}

	files := filepath.Join(root, "outputs")
	if err := os.Mkdir(files, 0o755); err != nil {
		t.Fatal(err)
	}
	c := exec.Command("sh")
	c.Dir, c.Env = work, env
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, err := c.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var shellErr bytes.Buffer
	c.Stderr = &shellErr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	sh := &readmeShell{cmd: c, in: in, out: bufio.NewReader(out), files: files}
	var servers []*readmeServer
	var addrs []string          // what the README names them by, and their real addresses
	keys := map[string]string{} // user -> key, as the servers printed them
	t.Cleanup(func() {
		in.Close()
		// The session and whatever it left running in its group end
		// with the test.
		syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
		c.Wait()
		for _, s := range servers {
			if err := s.stop(); err != nil {
				t.Errorf("a server the README started %s", err)
			}
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, cmd := range commands {
		if ctx.Err() != nil {
			t.Fatal("the README's commands took over 5 minutes")
		}
		text := cmd.text
		if stripComment(text) == "go test ./..." {
			ci, err := os.ReadFile("../../.ci/run")
			if err != nil || !strings.Contains(string(ci), "\ngo test ./...\n") {
				t.Errorf("README.md:%d: the README's test command is not what .ci/run runs (%v)", cmd.line, err)
			}
			continue
		}
		if m := goBuildLine.FindStringSubmatch(stripComment(text)); m != nil {
			text = "cp '" + bin + "' " + m[1]
		}
		text = goRunPrefix.ReplaceAllString(text, "${1}cyberpact")
		if bare := stripComment(text); serveLine.MatchString(bare) {
			// The port the README gives it (8080 by default) names it
			// in later commands.
			port := "8080"
			if m := addrFlag.FindAllStringSubmatch(bare, -1); m != nil {
				a := m[len(m)-1][1]
				port = a[strings.LastIndex(a, ":")+1:]
			}
			t.Logf("README.md:%d: %s (a server)", cmd.line, cmd.text)
			s := startServer(t, work, env, bare)
			servers = append(servers, s)
			addrs = append(addrs, "localhost:"+port, s.addr, "127.0.0.1:"+port, s.addr)
			for u, k := range s.keys {
				keys[u] = k
			}
			continue
		}
		text = strings.NewReplacer(addrs...).Replace(text)
		if placeholder.MatchString(text) {
			key := ""
			for _, u := range userName.FindAllString(text, -1) {
				if key = keys[u]; key != "" {
					break
				}
			}
			if key == "" {
				t.Fatalf("README.md:%d: cpk_... stands for a key, but the line names no user a server printed a key for:\n%s", cmd.line, cmd.text)
			}
			text = placeholder.ReplaceAllString(text, key)
		}
		t.Logf("README.md:%d: %s", cmd.line, cmd.text)
		code, stdout, stderr, err := sh.run(text, 2*time.Minute)
		if err != nil {
			t.Fatalf("README.md:%d: %s\n%s\nshell: %s", cmd.line, err, cmd.text, shellErr.String())
		}
		bad := printsError.FindString(stdout + "\n" + stderr)
		if code != 0 || bad != "" {
			why := fmt.Sprintf("exit %d", code)
			if code == 0 {
				why = fmt.Sprintf("printed an error (%q)", strings.TrimSpace(bad))
			}
			t.Fatalf("README.md:%d: %s:\n%s\n--- stdout:\n%s\n--- stderr:\n%s", cmd.line, why, cmd.text, clip(stdout), clip(stderr))
		}
	}
}

// clip shortens long output for a failure message.
func clip(s string) string {
	if len(s) > 4000 {
		return s[:2000] + "\n...\n" + s[len(s)-2000:]
	}
	return s
}

// TestReadmeCommandsExtraction checks how commands are cut out of the
// README's ```sh blocks: continuations, quotes, here-documents and loops
// stay whole; comments and blank lines go; other blocks are not read.
func TestReadmeCommandsExtraction(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	complete := func(text string) bool { return exec.Command("sh", "-n", "-c", text).Run() == nil }
	fence := "```"
	readme := "intro\n" + fence + `sh
# a comment
echo one   # said

echo two \
  three
printf '%s\n' 'a
b'
cat > f <<'EOF'
x
EOF
for i in 1 2; do
  echo $i
done
` + fence + "\n" + fence + `json
{"not": "run"}
` + fence + "\n" + fence + `console
$ not run
` + fence + "\n" + fence + `sh
echo last
` + fence + "\n"
	got, err := readmeCommands(readme, complete)
	if err != nil {
		t.Fatal(err)
	}
	want := []readmeCommand{
		{"echo one   # said", 4},
		{"echo two \\\n  three", 6},
		{"printf '%s\\n' 'a\nb'", 8},
		{"cat > f <<'EOF'\nx\nEOF", 10},
		{"for i in 1 2; do\n  echo $i\ndone", 13},
		{"echo last", 24},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("commands:\n got %+v\nwant %+v", got, want)
	}
	if _, err := readmeCommands("```sh\necho 'unclosed\n```\n", complete); err == nil {
		t.Error("a command left open at the end of its block was accepted")
	}
	if _, err := readmeCommands("```bash\necho not run\n```\n", complete); err == nil {
		t.Error("a ```bash block, which the test would not run, was accepted")
	}
	for in, want := range map[string]string{
		`cyberpact serve --demo     # a hub on http://127.0.0.1:8080`: `cyberpact serve --demo`,
		`echo '#not' "a # comment" x#y # gone`:                        `echo '#not' "a # comment" x#y`,
		"a \\# b # c\nd # e":                                          "a \\# b\nd",
	} {
		if got := stripComment(in); got != want {
			t.Errorf("stripComment(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReadmeNamesTheGoVersion checks that the README names the Go version
// go.mod requires.
func TestReadmeNamesTheGoVersion(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`Go ` + regexp.QuoteMeta(string(m[1])) + `\b`).Match(readme) {
		t.Errorf("README.md does not name Go %s, the version go.mod requires", m[1])
	}
}

// TestReadmeCountsTheDemo checks that the README's account of serve --demo
// gives the numbers of organisations, partners and sharing groups the demo
// seeds.
func TestReadmeCountsTheDemo(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	words := []string{"no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen"}
	word := func(n int) string {
		if n < len(words) {
			return words[n]
		}
		return fmt.Sprint(n)
	}
	text := strings.Join(strings.Fields(string(readme)), " ")
	for _, want := range []string{
		fmt.Sprintf("%s organisations, the hub's own and %s partners", word(len(demo.Partners)+1), word(len(demo.Partners))),
		fmt.Sprintf("in %s sharing groups", word(len(demoGroups))),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("README.md does not say %q", want)
		}
	}
}
