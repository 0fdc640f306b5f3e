# nbgrader configuration of the regloss course.
#
# Run plain nbgrader commands from this folder (grading/):
#     cd grading && nbgrader generate_assignment 01_l1_mse --force
#     cd grading && nbgrader autograde 01_l1_mse
# The course root is the repository: solutions/ is nbgrader's source,
# notebooks/ its release; submissions, autograded notebooks, feedback and the
# SQLite gradebook live here, under grading/ (all git-ignored).
import os

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

_here = os.path.dirname(os.path.abspath(__file__))
_root = os.path.dirname(_here)

c.CourseDirectory.root = _root
c.CourseDirectory.course_id = "regloss"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = os.path.join("grading", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("grading", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("grading", "feedback")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_here, "gradebook.db")

# Every notebook is executed with this kernel and per-cell timeout when autograded.
c.Execute.kernel_name = "python3"
c.Execute.timeout = 60

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
