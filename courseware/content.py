"""Read and validate a course folder (docs/course-format.md) into plain dataclasses, collecting every problem.

`course_read(path)` never stops at the first problem: it returns the parsed course (or None) and a list of
Problem(file, line, message), file relative to the course folder. Markdown is rendered here too, because a
broken link or a missing image is only found by rendering. Nothing in this module touches the database.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from django.urls import reverse

from courseware.markdown import BrokenLinkError, MarkdownRenderer, Rendered
from courseware.models import item_path
from courseware.slides import lesson_slides

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
IMAGE_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".webp": "image/webp"}  # fmt: skip
QUESTION_TYPES = ("single", "multiple", "true_false", "numeric", "ordering", "matching")
SHOW_ANSWERS = ("after_each_attempt", "once_passed", "after_last_attempt", "never")
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_TEXT_BYTES = 1024 * 1024  # one lesson, quiz, manual or YAML file; the longest shipped lesson is under 20 KB
MAX_COURSE_BYTES = 64 * 1024 * 1024  # everything in the course folder together
MAX_YAML_NODES = 50_000  # nodes after expanding aliases: a "billion laughs" alias bomb is refused before it grows
MAX_YAML_DEPTH = 40


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "message": self.message}


@dataclass
class LessonSpec:
    file: str
    slug: str
    title: str
    minutes: int
    objectives: list[str]
    instructor_notes_md: str
    body_md: str
    body_offset: int  # lines before the body in the file
    line: int = 1
    body_html: str = ""
    toc: list[dict[str, object]] = field(default_factory=list)
    instructor_notes_html: str = ""
    slides: list[dict[str, Any]] = field(default_factory=list)  # courseware.slides


@dataclass
class QuizSpec:
    file: str
    slug: str
    title: str
    pass_mark: int
    attempts: int
    show_answers: str
    shuffle: bool
    questions: list[dict[str, Any]]  # the key as stored (rendered HTML included after rendering)
    line: int = 1

    @property
    def max_points(self) -> float:
        return float(sum(question["points"] for question in self.questions))


@dataclass
class LabSpec:
    slug: str
    folder: Path
    title: str
    parsed: Any = None


@dataclass
class ItemRef:
    kind: str  # lesson | quiz | lab
    slug: str
    line: int


@dataclass
class ModuleSpec:
    folder: str
    slug: str
    title: str
    summary: str
    items: list[ItemRef]
    lessons: dict[str, LessonSpec] = field(default_factory=dict)
    quizzes: dict[str, QuizSpec] = field(default_factory=dict)


@dataclass
class ImageSpec:
    path: str  # relative to images/
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class CourseSpec:
    root: Path
    slug: str
    title: str
    version: str
    summary_md: str
    audience_md: str
    modules: list[ModuleSpec] = field(default_factory=list)
    labs: dict[str, LabSpec] = field(default_factory=dict)
    glossary: list[dict[str, str]] = field(default_factory=list)
    images: dict[str, ImageSpec] = field(default_factory=dict)
    instructor_overview_md: str = ""
    instructor_overview_offset: int = 0
    summary_html: str = ""
    audience_html: str = ""
    instructor_overview_html: str = ""

    def counts(self) -> dict[str, int]:
        quizzes = [quiz for module in self.modules for quiz in module.quizzes.values()]
        referenced_labs = {ref.slug for module in self.modules for ref in module.items if ref.kind == "lab"}
        return {
            "modules": len(self.modules),
            "lessons": sum(len(module.lessons) for module in self.modules),
            "quizzes": len(quizzes),
            "questions": sum(len(quiz.questions) for quiz in quizzes),
            "labs": len(referenced_labs),
            "glossary_terms": len(self.glossary),
            "images": len(self.images),
        }


# --- Labs hook: the labs app says how a lab folder is checked and stored ------------------------------------


@dataclass(frozen=True)
class LabHooks:
    """How the labs app plugs into the course loader; courseware knows nothing else of labs.

    `validate(lab_folder)` returns (problems, parsed): problems name files relative to the course folder (or
    absolute), and `parsed` (anything with a `title` attribute) is kept and handed to `store`. `store(item,
    lab_spec, course_spec)` runs inside load_course's transaction for each lab item.
    """

    validate: Callable[[Path], tuple[list[Problem], Any]]
    store: Callable[[Any, LabSpec, CourseSpec], None]


_lab_hooks: LabHooks | None = None


def lab_hooks_register(hooks: LabHooks) -> None:
    """Install the lab hooks (the labs app does, when it is ready)."""
    global _lab_hooks
    _lab_hooks = hooks


def lab_hooks() -> LabHooks | None:
    return _lab_hooks


# --- YAML with line numbers -----------------------------------------------------------------------------------


class LineDict(dict):
    line: int = 0
    key_lines: dict[Any, int]


class LineList(list):
    line: int = 0
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    offset = 0
    duplicate_keys: list[tuple[int, str]]


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1 + loader.offset
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1 + loader.offset
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value, not a list or mapping", key_node.start_mark
            )
        if key in mapping:
            loader.duplicate_keys.append((line, f"duplicate key '{key}'"))
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = line
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    sequence = LineList(loader.construct_object(child, deep=True) for child in node.value)
    sequence.line = node.start_mark.line + 1 + loader.offset
    sequence.item_lines = [child.start_mark.line + 1 + loader.offset for child in node.value]
    return sequence


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


class _YamlTooLargeError(Exception):
    pass


def _check_yaml_size(root: yaml.Node) -> None:
    """Refuse a document nested too deeply or growing past MAX_YAML_NODES once its aliases are expanded.

    Sizes are memoised per node, so an alias bomb is measured in time linear in the text, before anything is built.
    """
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        if depth > MAX_YAML_DEPTH:
            raise _YamlTooLargeError(f"nested deeper than {MAX_YAML_DEPTH} levels")
        known = sizes.get(id(node))
        if known is not None:
            return known
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(key, depth + 1) + size(value, depth + 1) for key, value in node.value)
        if total > MAX_YAML_NODES:
            raise _YamlTooLargeError(
                f"the document expands to more than {MAX_YAML_NODES:,} values (aliases included); split it or"
                " remove repeated aliases"
            )
        sizes[id(node)] = total
        return total

    size(root, 0)


def yaml_load(text: str, file: str, problems: list[Problem], offset: int = 0) -> Any:
    """Parse one course YAML file with the course limits; mappings are LineDict and lists LineList (line numbers).

    Every YAML file of a course goes through here (course, modules, quizzes, glossary, front matter, labs): the
    same size, depth and alias limits everywhere. Problems are appended; returns None when the text is unusable.
    """
    return _Checker(file, problems).load_yaml(text, offset)


class _Checker:
    """Problem collection for one file: every helper records a problem and returns a safe default."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems

    def error(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def load_yaml(self, text: str, offset: int = 0) -> Any:
        loader: _LineLoader | None = None
        try:
            loader = _LineLoader(text)
            loader.offset = offset
            loader.duplicate_keys = []
            node = loader.get_single_node()
            if node is not None:
                _check_yaml_size(node)
            data = loader.construct_document(node) if node is not None else None
        except _YamlTooLargeError as error:
            self.error(None, f"YAML error: {error}")
            return None
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = mark.line + 1 + offset if mark else None
            message = f"YAML error: {error.problem or error.context}"
            if error.context and error.context_mark and error.problem_mark and error.context_mark.line != mark.line:
                message += f" ({error.context} on line {error.context_mark.line + 1 + offset})"
            self.error(line, message)
            return None
        except yaml.reader.ReaderError as error:
            self.error(None, f"YAML error: {error.reason} (character {error.character!r} at offset {error.position})")
            return None
        except yaml.YAMLError as error:
            self.error(None, f"YAML error: {error}")
            return None
        finally:
            if loader is not None:
                loader.dispose()
        for line, message in loader.duplicate_keys:
            self.error(line, message)
        return data

    @staticmethod
    def line_of(mapping: Any, key: str) -> int | None:
        if isinstance(mapping, LineDict):
            return mapping.key_lines.get(key, mapping.line)
        return None

    def mapping(self, value: Any, line: int | None, what: str) -> LineDict | None:
        if isinstance(value, LineDict):
            return value
        self.error(getattr(value, "line", None) or line, f"{what} must be a mapping of fields")
        return None

    def keys(self, mapping: LineDict, allowed: tuple[str, ...], required: tuple[str, ...], what: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.error(
                    self.line_of(mapping, key), f"unknown field '{key}' in {what} (allowed: {', '.join(allowed)})"
                )
        for key in required:
            if key not in mapping:
                self.error(mapping.line, f"{what} is missing the required field '{key}'")

    def text(self, mapping: LineDict, key: str, what: str, required: bool = False) -> str:
        value = mapping.get(key)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.error(self.line_of(mapping, key), f"'{key}' in {what} must be text")
            return ""
        text = str(value)
        if required and not text.strip():
            self.error(self.line_of(mapping, key), f"'{key}' in {what} must not be empty")
        return text

    def slug(self, mapping: LineDict, key: str, what: str) -> str:
        value = mapping.get(key)
        if value is None:
            return ""
        if not isinstance(value, str) or not SLUG_RE.match(value):
            self.error(self.line_of(mapping, key), f"'{key}' in {what} must match [a-z0-9-]+, got {value!r}")
            return ""
        return value

    def integer(self, mapping: LineDict, key: str, what: str, default: int, minimum: int, maximum: int) -> int:
        value = mapping.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            self.error(
                self.line_of(mapping, key), f"'{key}' in {what} must be a whole number from {minimum} to {maximum}"
            )
            return default
        return value

    def number(
        self, mapping: LineDict, key: str, what: str, default: float | None, minimum: float | None = None
    ) -> float:
        value = mapping.get(key, default)
        if (
            value is None
            or isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or (minimum is not None and value < minimum)
        ):
            bound = f" of at least {minimum:g}" if minimum is not None else ""
            self.error(self.line_of(mapping, key), f"'{key}' in {what} must be a number{bound}")
            return default if default is not None else 0.0
        return float(value)

    def boolean(self, mapping: LineDict, key: str, what: str, default: bool) -> bool:
        value = mapping.get(key, default)
        if not isinstance(value, bool):
            self.error(self.line_of(mapping, key), f"'{key}' in {what} must be true or false")
            return default
        return value

    def string_list(self, mapping: LineDict, key: str, what: str) -> list[str]:
        value = mapping.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
            self.error(self.line_of(mapping, key), f"'{key}' in {what} must be a list of texts")
            return []
        return list(value)


# --- Reading the folder -----------------------------------------------------------------------------------------

COURSE_KEYS = ("slug", "title", "version", "summary", "audience", "modules")
MODULE_KEYS = ("slug", "title", "summary", "items")
LESSON_KEYS = ("slug", "title", "minutes", "objectives", "instructor_notes")
QUIZ_KEYS = ("slug", "title", "pass_mark", "attempts", "show_answers", "shuffle", "questions")
QUESTION_KEYS = {
    "single": ("id", "type", "prompt", "points", "explanation", "choices"),
    "multiple": ("id", "type", "prompt", "points", "explanation", "choices", "partial_credit"),
    "true_false": ("id", "type", "prompt", "points", "explanation", "answer"),
    "numeric": ("id", "type", "prompt", "points", "explanation", "answer", "tolerance", "unit"),
    "ordering": ("id", "type", "prompt", "points", "explanation", "items", "partial_credit"),
    "matching": ("id", "type", "prompt", "points", "explanation", "pairs", "distractors"),
}
GLOSSARY_KEYS = ("slug", "term", "definition")


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """Split `---` front matter from a Markdown file: (front matter or None, body, lines before the body)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None, text, 0
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 1
    return None, text, 0


def _relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


class CourseFileError(Exception):
    """A course file that must not be read: a symbolic link, outside the course folder, or too large."""


def course_file_bytes(root: Path, path: Path, limit: int) -> bytes:
    """The bytes of `path`, a file inside the course folder `root`; raises CourseFileError with the reason.

    A symbolic link anywhere between the course folder and the file is refused, as is a path that resolves outside
    the course folder: a course author must not be able to make the loader read and publish a server file.
    """
    root = root.resolve()
    try:
        relative = path.relative_to(root) if path.is_absolute() else path
    except ValueError as error:
        raise CourseFileError("the file is outside the course folder") from error
    current = root
    for part in relative.parts:
        if part in ("", ".", ".."):
            raise CourseFileError("the path leaves the course folder")
        current = current / part
        if current.is_symlink():
            raise CourseFileError("symbolic links are not allowed in a course folder")
    if not current.resolve().is_relative_to(root):
        raise CourseFileError("the file is outside the course folder")
    try:
        size = current.stat().st_size
        if not current.is_file():
            raise CourseFileError("not a regular file")
        if size > limit:
            raise CourseFileError(f"the file is larger than {_size(limit)} ({_size(size)})")
        return current.read_bytes()
    except OSError as error:
        raise CourseFileError(f"cannot read file: {error.strerror}") from error


def course_file_text(root: Path, path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of a course file (see course_file_bytes); raises CourseFileError with the reason."""
    try:
        return course_file_bytes(root, path, limit).decode("utf-8")
    except UnicodeDecodeError as error:
        raise CourseFileError("file is not valid UTF-8") from error


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MB" if count >= 1024 * 1024 else f"{count / 1024:.0f} KB"


def _read_text(path: Path, check: _Checker, root: Path) -> str | None:
    try:
        return course_file_text(root, path)
    except CourseFileError as error:
        check.error(None, str(error))
    return None


def _folder_problems(root: Path) -> list[Problem]:
    """Symbolic links anywhere in the course folder, and a folder larger than the course cap."""
    problems: list[Problem] = []
    total = 0
    for path in sorted(root.rglob("*")):  # rglob does not follow symbolic links to folders
        relative = _relative(root, path)
        if path.is_symlink():
            problems.append(Problem(relative, None, "symbolic links are not allowed in a course folder"))
        elif path.is_file():
            total += path.stat().st_size
    if total > MAX_COURSE_BYTES:
        problems.append(
            Problem(".", None, f"the course folder holds {_size(total)}; the limit is {_size(MAX_COURSE_BYTES)}")
        )
    return problems


def course_read(path: str | Path) -> tuple[CourseSpec | None, list[Problem]]:
    """Parse, validate and render the course folder at `path`; returns (course or None, all problems sorted)."""
    root = Path(path).resolve()
    problems: list[Problem] = []
    if not root.is_dir():
        return None, [Problem(str(path), None, "not a folder")]
    problems.extend(_folder_problems(root))
    if any(problem.file == "." for problem in problems):
        return None, problems  # too large to read at all
    course = _read_course_yaml(root, problems)
    if course is None:
        return None, sorted(set(problems))
    _read_images(course, problems)
    _read_labs(course, problems)
    _read_glossary(course, problems)
    _read_instructor_overview(course, problems)
    seen_items: dict[str, str] = {}
    for module in course.modules:
        _read_module(course, module, problems, seen_items)
    _check_module_slugs(course, problems)
    _render(course, problems)
    return course, sorted(set(problems), key=lambda problem: (problem.file, problem.line or 0, problem.message))


def _read_course_yaml(root: Path, problems: list[Problem]) -> CourseSpec | None:
    check = _Checker("course.yaml", problems)
    file = root / "course.yaml"
    if not file.is_file():
        check.error(None, "missing: every course folder needs a course.yaml")
        return None
    text = _read_text(file, check, root)
    data = check.load_yaml(text) if text is not None else None
    mapping = check.mapping(data, 1, "course.yaml") if data is not None else None
    if mapping is None:
        return None
    check.keys(mapping, COURSE_KEYS, ("slug", "title", "version", "modules"), "course.yaml")
    version = mapping.get("version")
    if version is not None and not isinstance(version, str):
        check.error(check.line_of(mapping, "version"), 'version must be a quoted string, e.g. "2026.11.1"')
    course = CourseSpec(
        root=root,
        slug=check.slug(mapping, "slug", "course.yaml"),
        title=check.text(mapping, "title", "course.yaml", required=True),
        version=str(version or "")[:50],
        summary_md=check.text(mapping, "summary", "course.yaml"),
        audience_md=check.text(mapping, "audience", "course.yaml"),
    )
    folders = mapping.get("modules")
    if folders is None:
        return course
    if not isinstance(folders, LineList) or not folders:
        check.error(check.line_of(mapping, "modules"), "'modules' must be a non-empty list of module folder names")
        return course
    seen: set[str] = set()
    for folder, line in zip(folders, folders.item_lines, strict=True):
        if not isinstance(folder, str) or not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", folder) or ".." in folder:
            check.error(line, f"module folder {folder!r} must be a plain folder name")
            continue
        if folder in seen:
            check.error(line, f"module folder '{folder}' is listed twice")
            continue
        seen.add(folder)
        if not (root / folder).is_dir():
            check.error(line, f"module folder '{folder}' does not exist")
            continue
        course.modules.append(ModuleSpec(folder=folder, slug="", title="", summary="", items=[]))
    return course


def _read_module(course: CourseSpec, module: ModuleSpec, problems: list[Problem], seen_items: dict[str, str]) -> None:
    root = course.root
    folder = root / module.folder
    check = _Checker(f"{module.folder}/module.yaml", problems)
    file = folder / "module.yaml"
    mapping: LineDict | None = None
    if not file.is_file():
        check.error(None, "missing: every module folder needs a module.yaml")
    else:
        text = _read_text(file, check, root)
        data = check.load_yaml(text) if text is not None else None
        mapping = check.mapping(data, 1, "module.yaml") if data is not None else None
    if mapping is not None:
        check.keys(mapping, MODULE_KEYS, ("slug", "title", "items"), "module.yaml")
        module.slug = check.slug(mapping, "slug", "module.yaml")
        module.title = check.text(mapping, "title", "module.yaml", required=True)
        module.summary = check.text(mapping, "summary", "module.yaml")
        module.items = _read_item_refs(mapping, check)
    # Lessons and quizzes in the folder.
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        relative = _relative(root, path)
        if path.suffix == ".md":
            lesson = _read_lesson(path, relative, problems, root)
            if lesson is not None:
                _claim_slug(lesson.slug, relative, lesson.line, seen_items, problems)
                module.lessons.setdefault(lesson.slug, lesson)
        elif path.suffix in (".yaml", ".yml") and path.name not in ("module.yaml", "module.yml"):
            quiz = _read_quiz(path, relative, problems, root)
            if quiz is not None:
                _claim_slug(quiz.slug, relative, quiz.line, seen_items, problems)
                module.quizzes.setdefault(quiz.slug, quiz)
    # Cross-check the items list against the files.
    listed: set[tuple[str, str]] = set()
    for ref in module.items:
        if (ref.kind, ref.slug) in listed:
            check.error(ref.line, f"{ref.kind} '{ref.slug}' is listed twice")
            continue
        listed.add((ref.kind, ref.slug))
        if ref.kind == "lesson" and ref.slug not in module.lessons:
            check.error(ref.line, f"unknown lesson '{ref.slug}': no .md file in {module.folder}/ has this slug")
        elif ref.kind == "quiz" and ref.slug not in module.quizzes:
            check.error(ref.line, f"unknown quiz '{ref.slug}': no quiz .yaml in {module.folder}/ has this slug")
        elif ref.kind == "lab":
            if ref.slug not in course.labs:
                check.error(ref.line, f"unknown lab '{ref.slug}': there is no labs/{ref.slug}/lab.yaml")
            else:
                _claim_slug(ref.slug, f"labs/{ref.slug}/lab.yaml", None, seen_items, problems)
    if mapping is not None:
        for slug, lesson in module.lessons.items():
            if ("lesson", slug) not in listed:
                problems.append(
                    Problem(lesson.file, lesson.line, f"lesson '{slug}' is not listed in module.yaml items")
                )
        for slug, quiz in module.quizzes.items():
            if ("quiz", slug) not in listed:
                problems.append(Problem(quiz.file, quiz.line, f"quiz '{slug}' is not listed in module.yaml items"))


def _claim_slug(slug: str, file: str, line: int | None, seen: dict[str, str], problems: list[Problem]) -> None:
    if not slug:
        return
    if slug in seen and seen[slug] != file:
        problems.append(Problem(file, line, f"duplicate slug '{slug}': also used by {seen[slug]}"))
    seen.setdefault(slug, file)


def _read_item_refs(mapping: LineDict, check: _Checker) -> list[ItemRef]:
    items = mapping.get("items")
    refs: list[ItemRef] = []
    if items is None:
        return refs
    if not isinstance(items, LineList):
        check.error(check.line_of(mapping, "items"), "'items' must be a list like '- lesson: slug'")
        return refs
    for entry, line in zip(items, items.item_lines, strict=True):
        if not isinstance(entry, dict) or len(entry) != 1:
            check.error(line, "each item must be one of 'lesson: slug', 'quiz: slug' or 'lab: slug'")
            continue
        ((kind, slug),) = entry.items()
        if kind not in ("lesson", "quiz", "lab"):
            check.error(line, f"unknown item kind '{kind}' (use lesson, quiz or lab)")
            continue
        if not isinstance(slug, str) or not SLUG_RE.match(slug):
            check.error(line, f"{kind} slug must match [a-z0-9-]+, got {slug!r}")
            continue
        refs.append(ItemRef(kind=kind, slug=slug, line=line))
    return refs


def _check_module_slugs(course: CourseSpec, problems: list[Problem]) -> None:
    seen: dict[str, str] = {}
    for module in course.modules:
        if module.slug and module.slug in seen:
            problems.append(
                Problem(
                    f"{module.folder}/module.yaml",
                    None,
                    f"duplicate module slug '{module.slug}': also {seen[module.slug]}",
                )
            )
        seen.setdefault(module.slug, f"{module.folder}/module.yaml")


def _read_lesson(path: Path, relative: str, problems: list[Problem], root: Path) -> LessonSpec | None:
    check = _Checker(relative, problems)
    text = _read_text(path, check, root)
    if text is None:
        return None
    front, body, offset = split_front_matter(text)
    if front is None:
        check.error(1, "a lesson must start with YAML front matter between '---' lines")
        return None
    data = check.load_yaml(front, offset=1)
    if data is None:
        if not front.strip():
            check.error(1, "the front matter is empty")
        return None
    mapping = check.mapping(data, 2, "lesson front matter")
    if mapping is None:
        return None
    check.keys(mapping, LESSON_KEYS, ("slug", "title"), "lesson front matter")
    slug = check.slug(mapping, "slug", "lesson front matter")
    if not slug:
        return None
    return LessonSpec(
        file=relative,
        slug=slug,
        title=check.text(mapping, "title", "lesson front matter", required=True),
        minutes=check.integer(mapping, "minutes", "lesson front matter", 0, 0, 600),
        objectives=check.string_list(mapping, "objectives", "lesson front matter"),
        instructor_notes_md=check.text(mapping, "instructor_notes", "lesson front matter"),
        body_md=body,
        body_offset=offset,
        line=check.line_of(mapping, "slug") or 2,
    )


def _read_quiz(path: Path, relative: str, problems: list[Problem], root: Path) -> QuizSpec | None:
    check = _Checker(relative, problems)
    text = _read_text(path, check, root)
    data = check.load_yaml(text) if text is not None else None
    mapping = check.mapping(data, 1, "quiz") if data is not None else None
    if mapping is None:
        return None
    check.keys(mapping, QUIZ_KEYS, ("slug", "title", "questions"), "quiz")
    slug = check.slug(mapping, "slug", "quiz")
    attempts = check.integer(mapping, "attempts", "quiz", 0, 0, 1000)
    show_answers = mapping.get("show_answers", "after_each_attempt")
    if show_answers not in SHOW_ANSWERS:
        check.error(check.line_of(mapping, "show_answers"), f"'show_answers' must be one of: {', '.join(SHOW_ANSWERS)}")
        show_answers = "never"
    elif show_answers == "after_last_attempt" and attempts == 0:
        check.error(
            check.line_of(mapping, "show_answers"),
            "show_answers 'after_last_attempt' needs a limited number of attempts (attempts is 0, unlimited)",
        )
    quiz = QuizSpec(
        file=relative,
        slug=slug,
        title=check.text(mapping, "title", "quiz", required=True),
        pass_mark=check.integer(mapping, "pass_mark", "quiz", 70, 0, 100),
        attempts=attempts,
        show_answers=show_answers,
        shuffle=check.boolean(mapping, "shuffle", "quiz", True),
        questions=[],
        line=check.line_of(mapping, "slug") or 1,
    )
    questions = mapping.get("questions")
    if questions is None:
        return quiz if slug else None
    if not isinstance(questions, LineList) or not questions:
        check.error(check.line_of(mapping, "questions"), "'questions' must be a non-empty list")
        return quiz if slug else None
    seen: set[str] = set()
    for raw, line in zip(questions, questions.item_lines, strict=True):
        question = _read_question(raw, line, check)
        if question is None:
            continue
        if question["id"] in seen:
            check.error(question["_line"], f"duplicate question id '{question['id']}'")
            continue
        seen.add(question["id"])
        quiz.questions.append(question)
    return quiz if slug else None


def _read_question(raw: Any, line: int, check: _Checker) -> dict[str, Any] | None:
    mapping = check.mapping(raw, line, "a question")
    if mapping is None:
        return None
    kind = mapping.get("type")
    if kind not in QUESTION_TYPES:
        check.error(check.line_of(mapping, "type"), f"question 'type' must be one of: {', '.join(QUESTION_TYPES)}")
        return None
    qid = mapping.get("id", "?")
    what = f"question '{qid}'"
    check.keys(mapping, QUESTION_KEYS[kind], ("id", "type", "prompt"), what)
    question: dict[str, Any] = {
        "id": check.slug(mapping, "id", what),
        "type": kind,
        "points": check.number(mapping, "points", what, 1.0, minimum=0.0),
        "_line": mapping.line,
        "_md": {},  # field -> (markdown, line); rendered later
    }
    if not question["id"]:
        return None
    if question["points"] <= 0:
        check.error(check.line_of(mapping, "points"), f"'points' in {what} must be more than 0")
    question["_md"]["prompt"] = (check.text(mapping, "prompt", what, required=True), check.line_of(mapping, "prompt"))
    question["_md"]["explanation"] = (check.text(mapping, "explanation", what), check.line_of(mapping, "explanation"))
    if kind in ("single", "multiple"):
        question["choices"] = _read_entries(mapping, "choices", ("id", "text", "correct", "explanation"), check, what)
        for choice in question["choices"]:
            choice["correct"] = choice.pop("_correct", False)
        correct = sum(1 for choice in question["choices"] if choice["correct"])
        if len(question["choices"]) < 2:
            check.error(check.line_of(mapping, "choices"), f"{what} needs at least 2 choices")
        if kind == "single" and correct != 1 and "choices" in mapping:
            check.error(
                check.line_of(mapping, "choices"),
                f"{what} is single choice and needs exactly one correct choice, found {correct}",
            )
        if kind == "multiple" and correct < 1 and "choices" in mapping:
            check.error(check.line_of(mapping, "choices"), f"{what} has no correct choice (mark one 'correct: true')")
        if kind == "multiple":
            question["partial_credit"] = check.boolean(mapping, "partial_credit", what, False)
        if "choices" not in mapping:
            check.error(mapping.line, f"{what} is missing the required field 'choices'")
    elif kind == "true_false":
        if not isinstance(mapping.get("answer"), bool):
            check.error(check.line_of(mapping, "answer"), f"{what} needs 'answer: true' or 'answer: false'")
        question["answer"] = bool(mapping.get("answer"))
    elif kind == "numeric":
        if "answer" not in mapping:
            check.error(mapping.line, f"{what} is missing the required field 'answer'")
        question["answer"] = check.number(mapping, "answer", what, 0.0) if "answer" in mapping else 0.0
        question["tolerance"] = check.number(mapping, "tolerance", what, 0.0, minimum=0.0)
        question["unit"] = check.text(mapping, "unit", what)
    elif kind == "ordering":
        question["items"] = _read_entries(mapping, "items", ("id", "text"), check, what)
        question["partial_credit"] = check.boolean(mapping, "partial_credit", what, False)
        if len(question["items"]) < 2:
            check.error(check.line_of(mapping, "items"), f"{what} needs at least 2 items to put in order")
    elif kind == "matching":
        question["pairs"] = _read_entries(mapping, "pairs", ("id", "left", "right"), check, what)
        if len(question["pairs"]) < 2:
            check.error(check.line_of(mapping, "pairs"), f"{what} needs at least 2 pairs to match")
        rights: list[str] = []
        for pair in question["pairs"]:
            if pair["right"] not in rights:
                rights.append(pair["right"])
        for distractor in check.string_list(mapping, "distractors", what):
            if distractor not in rights:
                rights.append(distractor)
        # Option ids come from the text, so that neither their order nor their names hint at the pairs.
        ids = {text: "o" + hashlib.sha256(f"{question['id']}:{text}".encode()).hexdigest()[:10] for text in rights}
        question["options"] = [{"id": ids[text], "text": text} for text in rights]
        for pair in question["pairs"]:
            pair["option"] = ids[pair["right"]]
    return question


def _read_entries(
    mapping: LineDict, key: str, allowed: tuple[str, ...], check: _Checker, what: str
) -> list[dict[str, Any]]:
    """Choices, ordering items or matching pairs: each a mapping with a unique id; Markdown fields kept for later."""
    raw = mapping.get(key)
    entries: list[dict[str, Any]] = []
    if raw is None:
        return entries
    if not isinstance(raw, LineList):
        check.error(check.line_of(mapping, key), f"'{key}' in {what} must be a list")
        return entries
    seen: set[str] = set()
    for value, line in zip(raw, raw.item_lines, strict=True):
        entry = check.mapping(value, line, f"each of '{key}' in {what}")
        if entry is None:
            continue
        where = f"{key[:-1]} of {what}"
        required = tuple(name for name in allowed if name not in ("correct", "explanation"))
        check.keys(entry, allowed, required, where)
        eid = check.slug(entry, "id", where)
        if not eid:
            continue
        if eid in seen:
            check.error(entry.line, f"duplicate id '{eid}' in '{key}' of {what}")
            continue
        seen.add(eid)
        result: dict[str, Any] = {"id": eid, "_md": {}}
        for name in allowed:
            if name == "id":
                continue
            if name == "correct":
                result["_correct"] = check.boolean(entry, "correct", where, False)
            elif name == "right":
                result["right"] = check.text(entry, "right", where, required=True)
            else:
                result["_md"][name] = (check.text(entry, name, where, required=name != "explanation"), entry.line)
        entries.append(result)
    return entries


def _read_labs(course: CourseSpec, problems: list[Problem]) -> None:
    labs_dir = course.root / "labs"
    if not labs_dir.is_dir():
        return
    for folder in sorted(labs_dir.iterdir()):
        if not folder.is_dir():
            continue
        relative = f"labs/{folder.name}/lab.yaml"
        if not SLUG_RE.match(folder.name):
            problems.append(Problem(f"labs/{folder.name}", None, "a lab folder name must match [a-z0-9-]+"))
            continue
        if not (folder / "lab.yaml").is_file():
            problems.append(Problem(relative, None, "missing: a lab folder needs a lab.yaml"))
            continue
        if _lab_hooks is None:
            problems.append(Problem(relative, None, "this course has labs, but the labs app is not installed"))
            continue
        found, parsed = _lab_hooks.validate(folder)
        for problem in found:
            path = Path(problem.file)
            file = _relative(course.root, path) if path.is_absolute() else problem.file
            problems.append(Problem(file, problem.line, problem.message))
        title = getattr(parsed, "title", None)
        course.labs[folder.name] = LabSpec(folder.name, folder, str(title or folder.name), parsed)


def _read_glossary(course: CourseSpec, problems: list[Problem]) -> None:
    file = course.root / "glossary.yaml"
    if not file.is_file():
        return
    check = _Checker("glossary.yaml", problems)
    text = _read_text(file, check, course.root)
    data = check.load_yaml(text) if text is not None else None
    if data is None:
        return
    if not isinstance(data, LineList):
        check.error(1, "glossary.yaml must be a list of terms ('- slug: ..., term: ..., definition: ...')")
        return
    seen: set[str] = set()
    for raw, line in zip(data, data.item_lines, strict=True):
        entry = check.mapping(raw, line, "a glossary term")
        if entry is None:
            continue
        check.keys(entry, GLOSSARY_KEYS, GLOSSARY_KEYS, "a glossary term")
        slug = check.slug(entry, "slug", "a glossary term")
        if not slug:
            continue
        if slug in seen:
            check.error(entry.line, f"duplicate glossary slug '{slug}'")
            continue
        seen.add(slug)
        course.glossary.append(
            {
                "slug": slug,
                "term": check.text(entry, "term", "a glossary term", required=True),
                "definition": check.text(entry, "definition", "a glossary term", required=True),
                "_line": str(check.line_of(entry, "definition") or entry.line),
            }
        )


def _read_instructor_overview(course: CourseSpec, problems: list[Problem]) -> None:
    file = course.root / "instructor-overview.md"
    if not file.is_file():
        return
    check = _Checker("instructor-overview.md", problems)
    text = _read_text(file, check, course.root)
    if text is None:
        return
    front, body, offset = split_front_matter(text)
    if front is not None:
        data = check.load_yaml(front, offset=1)
        if data is not None:
            mapping = check.mapping(data, 2, "front matter")
            if mapping is not None:
                check.keys(mapping, ("title",), (), "instructor-overview.md front matter")
    course.instructor_overview_md = body
    course.instructor_overview_offset = offset


def _read_images(course: CourseSpec, problems: list[Problem]) -> None:
    images_dir = course.root / "images"
    if not images_dir.is_dir():
        return
    for path in sorted(images_dir.rglob("*")):
        relative = _relative(course.root, path)
        if path.is_symlink():
            problems.append(Problem(relative, None, "images must be regular files, not symbolic links"))
            continue
        if not path.is_file() or path.name.startswith("."):
            continue
        content_type = IMAGE_TYPES.get(path.suffix.lower())
        if content_type is None:
            kinds = ", ".join(sorted(IMAGE_TYPES))
            problems.append(Problem(relative, None, f"unsupported image type (use one of: {kinds})"))
            continue
        try:
            data = course_file_bytes(course.root, path, MAX_IMAGE_BYTES)
        except CourseFileError as error:
            problems.append(Problem(relative, None, str(error)))
            continue
        refusal = image_content_problem(path.suffix.lower(), data)
        if refusal:
            problems.append(Problem(relative, None, refusal))
            continue
        name = path.relative_to(images_dir).as_posix()
        course.images[name] = ImageSpec(path=name, content_type=content_type, data=data)


_IMAGE_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
}
SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
_SVG_REFUSED_ELEMENTS = frozenset({"script", "foreignObject", "iframe", "embed", "object", "audio", "video"})


def image_content_problem(suffix: str, data: bytes) -> str | None:
    """Why these bytes are not an image of the type the file name claims, or None; SVGs must hold no active content.

    Checked by content, not by name: an HTML page named `.png` or an SVG with a script is refused at load.
    """
    if suffix == ".webp":
        return None if data[:4] == b"RIFF" and data[8:12] == b"WEBP" else "the file is not a WebP image"
    if suffix in _IMAGE_SIGNATURES:
        if data.startswith(_IMAGE_SIGNATURES[suffix]):
            return None
        return f"the file is not a {suffix.removeprefix('.').upper()} image (its content does not match its name)"
    return _svg_problem(data)


def _svg_problem(data: bytes) -> str | None:
    import xml.etree.ElementTree as ET  # noqa: S405 - entity declarations are refused before parsing

    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return "SVG images must not declare a DOCTYPE or entities"
    try:
        root = ET.fromstring(data)  # noqa: S314 - no DOCTYPE, so no entity expansion
    except ET.ParseError as error:
        return f"the file is not a well-formed SVG image ({error})"
    if root.tag != f"{SVG_NAMESPACE}svg":
        return "the file is not an SVG image (its root element is not <svg> in the SVG namespace)"
    for element in root.iter():
        name = element.tag.rpartition("}")[2]
        if name in _SVG_REFUSED_ELEMENTS:
            return f"SVG images must not contain <{name}> elements"
        if name == "style" and re.search(r"@import|url\s*\(\s*['\"]?\s*(?!#)", element.text or ""):
            return "SVG styles must not load anything (no @import or url(...) other than url(#id))"
        for attribute, value in element.attrib.items():
            local = attribute.rpartition("}")[2].lower()
            if local.startswith("on"):
                return f"SVG images must not have event handler attributes ('{local}')"
            if local == "href" and not value.startswith("#"):
                return f"SVG links must point inside the image ('#id'), not to '{value[:60]}'"
    return None


# --- Rendering (links are checked here) ----------------------------------------------------------------------


def make_resolver(course: CourseSpec) -> Callable[[str, bool], str]:
    lessons = {slug for module in course.modules for slug in module.lessons}
    quizzes = {slug for module in course.modules for slug in module.quizzes}
    labs = {ref.slug for module in course.modules for ref in module.items if ref.kind == "lab"} | set(course.labs)
    glossary = {entry["slug"] for entry in course.glossary}
    known = {"lesson": lessons, "quiz": quizzes, "lab": labs}
    course_slug = course.slug or "course"  # an invalid slug is reported already; still check every link
    version = quote(course.version, safe="")

    def resolve(target: str, image: bool) -> str:
        if image:
            if not target.startswith("images/"):
                raise BrokenLinkError(f"image '{target}' must be in the course's images/ folder ('images/name.svg')")
            name = target.removeprefix("images/")
            if ".." in name.split("/") or name not in course.images:
                raise BrokenLinkError(f"missing image '{target}': no such file in images/")
            return reverse("courseware:image", kwargs={"course": course_slug, "path": name}) + f"?v={version}"
        if target.startswith("#") or re.match(r"^(https?:|mailto:)", target):
            return target
        scheme, _, rest = target.partition(":")
        slug, _, fragment = rest.partition("#")
        suffix = f"#{fragment}" if fragment else ""
        if scheme in known:
            if slug not in known[scheme]:
                raise BrokenLinkError(f"broken link '{target}': there is no {scheme} '{slug}' in this course")
            return item_path(course_slug, scheme, slug) + suffix
        if scheme == "glossary":
            if slug not in glossary:
                raise BrokenLinkError(f"broken link '{target}': there is no glossary term '{slug}'")
            return reverse("courseware:glossary", kwargs={"course": course_slug}) + f"#term-{slug}"
        if target.startswith("images/"):
            return resolve(target, True)
        raise BrokenLinkError(
            f"unsupported link '{target}': use lesson:, quiz:, lab:, glossary:, images/, https:, mailto: or #anchor"
        )

    return resolve


def _render(course: CourseSpec, problems: list[Problem]) -> None:
    renderer = MarkdownRenderer(make_resolver(course))

    def render(text: str, file: str, offset: int, inline: bool = False, fixed_line: int | None = None) -> Rendered:
        rendered = renderer.render_inline(text) if inline else renderer.render(text)
        for line, message in rendered.problems:
            where = fixed_line if fixed_line is not None else (offset + line if line else None)
            problems.append(Problem(file, where, message))
        return rendered

    if course.slug:
        course.summary_html = render(course.summary_md, "course.yaml", 0, fixed_line=None).html
        course.audience_html = render(course.audience_md, "course.yaml", 0, fixed_line=None).html
        course.instructor_overview_html = render(
            course.instructor_overview_md, "instructor-overview.md", course.instructor_overview_offset
        ).html
    for entry in course.glossary:
        line = int(entry.pop("_line"))
        entry["definition_html"] = render(entry.pop("definition"), "glossary.yaml", 0, fixed_line=line).html
    course.glossary.sort(key=lambda entry: entry["term"].lower())
    for module in course.modules:
        for lesson in module.lessons.values():
            body = render(lesson.body_md, lesson.file, lesson.body_offset)
            lesson.body_html, lesson.toc = body.html, body.toc
            lesson.slides = lesson_slides(lesson, renderer, problems)
            if lesson.instructor_notes_md:
                lesson.instructor_notes_html = render(
                    lesson.instructor_notes_md, lesson.file, 0, fixed_line=lesson.line
                ).html
        for quiz in module.quizzes.values():
            for question in quiz.questions:
                line = question.pop("_line")
                for name, (text, where) in question.pop("_md").items():
                    question[f"{name}_html"] = render(text, quiz.file, 0, fixed_line=where or line).html if text else ""
                for key in ("choices", "items", "pairs"):
                    for entry in question.get(key, []):
                        for name, (text, where) in entry.pop("_md").items():
                            inline = name in ("text", "left")
                            html_name = "html" if name == "text" else f"{name}_html"
                            entry[html_name] = (
                                render(text, quiz.file, 0, inline=inline, fixed_line=where).html if text else ""
                            )
