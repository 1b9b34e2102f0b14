//! Checking every field of an input before answering, so a person who made
//! four mistakes is told about all four at once instead of one per submit.

use super::ServiceError;
use herald_app::model::merchant::FieldError;

/// The validation problems found so far in one input.
#[derive(Debug, Default)]
pub struct FieldChecks {
    problems: Vec<FieldError>,
}

impl FieldChecks {
    /// Starts from the problems found while reading the input (the
    /// dashboard form's boxes), so they are reported with the rest.
    pub fn starting_with(problems: Vec<FieldError>) -> Self {
        FieldChecks { problems }
    }

    /// The checked value. A validation error is recorded and a stand-in
    /// (`T::default()`) returned, which `finish` keeps from ever being used;
    /// any other error (the database) ends the checking at once.
    pub fn take<T: Default>(
        &mut self,
        checked: Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        match checked {
            Ok(value) => Ok(value),
            Err(ServiceError::Validation { field, message }) => {
                self.problems.push(FieldError { field, message });
                Ok(T::default())
            }
            Err(ServiceError::InvalidFields(problems)) => {
                self.problems.extend(problems);
                Ok(T::default())
            }
            Err(other) => Err(other),
        }
    }

    /// A value read from a form's box: on a problem, the problem is kept
    /// and a stand-in returned, as for `take`.
    pub fn read<T: Default>(&mut self, read: Result<T, FieldError>) -> T {
        read.unwrap_or_else(|problem| {
            self.problems.push(problem);
            T::default()
        })
    }

    /// The problems found, to be handed on (`starting_with`).
    pub fn into_problems(self) -> Vec<FieldError> {
        self.problems
    }

    /// Whether a field already has a problem: a check that reads it (a rule
    /// across fields) is then skipped, since it would judge a stand-in.
    pub fn has_problem(&self, field: &str) -> bool {
        self.problems.iter().any(|p| p.field == field)
    }

    /// Nothing when every check passed; else every problem, in the order
    /// the fields were checked (one field's first problem only).
    pub fn finish(self) -> Result<(), ServiceError> {
        let mut problems: Vec<FieldError> = Vec::with_capacity(self.problems.len());
        for problem in self.problems {
            if !problems.iter().any(|p| p.field == problem.field) {
                problems.push(problem);
            }
        }
        match problems.len() {
            0 => Ok(()),
            1 => {
                let FieldError { field, message } = problems.remove(0);
                Err(ServiceError::Validation { field, message })
            }
            _ => Err(ServiceError::InvalidFields(problems)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(field: &str) -> Result<u32, ServiceError> {
        Err(ServiceError::invalid(field, format!("{field} is wrong")))
    }

    #[test]
    fn every_problem_is_reported_once_per_field() {
        let mut checks = FieldChecks::starting_with(vec![FieldError::new("timeout", "not a time")]);
        assert_eq!(checks.take(Ok::<_, ServiceError>(7)).ok(), Some(7));
        assert_eq!(checks.take(invalid("url")).ok(), Some(0));
        assert_eq!(checks.take(invalid("url")).ok(), Some(0));
        assert_eq!(checks.take(invalid("headers")).ok(), Some(0));
        assert!(checks.has_problem("url") && !checks.has_problem("description"));
        match checks.finish() {
            Err(ServiceError::InvalidFields(problems)) => {
                let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
                assert_eq!(fields, ["timeout", "url", "headers"]);
            }
            other => panic!("expected every problem, got {other:?}"),
        }
    }

    #[test]
    fn one_problem_is_a_plain_validation_error_and_none_is_ok() {
        let mut checks = FieldChecks::default();
        let _ = checks.take(invalid("url"));
        assert!(
            matches!(checks.finish(), Err(ServiceError::Validation { field, .. }) if field == "url")
        );
        assert!(FieldChecks::default().finish().is_ok());
    }

    #[test]
    fn other_errors_stop_the_checking() {
        let mut checks = FieldChecks::default();
        let failed = checks.take::<u32>(Err(ServiceError::Internal("disk".into())));
        assert!(matches!(failed, Err(ServiceError::Internal(_))));
    }
}
